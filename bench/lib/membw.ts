// This machine's memory bandwidth, measured in the process that runs the benchmark:
//   read:   the WASM SIMD read_sum kernel (16-byte loads, four accumulators) over a buffer far larger than
//           the caches, one thread: the same instruction set and thread count as the exact scan.
//   memcpy: Buffer.copy (libc memcpy) of the same size, reported as bytes copied per second.
import { ensureBytes, kernels } from '../../core/features/index/wasm.js';

export interface Bandwidth {
  readGBs: number;
  memcpyGBs: number;
}

export function measureBandwidth(bytes = 1 << 30, rounds = 3): Bandwidth {
  const k = kernels(16);
  ensureBytes(k.memory, bytes + 65536);
  new Uint8Array(k.memory.buffer, 65536, bytes).fill(1);
  let read = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    k.readSum(65536, bytes);
    read = Math.max(read, bytes / ((performance.now() - t) / 1000) / 1e9);
  }
  const a = Buffer.alloc(bytes, 1);
  const b = Buffer.alloc(bytes);
  let copy = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    a.copy(b);
    copy = Math.max(copy, bytes / ((performance.now() - t) / 1000) / 1e9);
  }
  return { readGBs: read, memcpyGBs: copy };
}

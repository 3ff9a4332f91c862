// Scan worker entry (worker_threads): runs the SIMD kernel of wasm.ts over rows of a RowSpace whose wasm
// memory and scales are shared with the main thread (pool.ts). Bundled as dist/cli/scan.worker.js by
// scripts/build.mjs; in the source tree the pool boots it through tsx.
import { type MessagePort, parentPort } from 'node:worker_threads';
import { toEnvelope } from '../../common/errors.js';
import { ROWS_AT, SLOT_BLOCK, SLOT_BYTES, SLOT_QUERY, SLOTS_AT } from './rows.js';
import type { FromScanWorker, Segments, ToScanWorker } from './scan-protocol.js';
import { TopK } from './topk.js';
import { kernels, type Kernels } from './wasm.js';

function workerPort(): MessagePort {
  if (!parentPort) throw new Error('scan.worker.ts must run in a worker thread');
  return parentPort;
}
const port = workerPort();

interface Space {
  kern: Kernels;
  stride: number;
  scales: Float32Array;
}
const spaces = new Map<number, Space>();

function space(id: number): Space {
  const s = spaces.get(id);
  if (!s) throw new Error(`scan worker: space ${id} not attached`);
  return s;
}

/**
 * Score every row of `segments` against the query placed in `slot`, calling visit(score, row) for each
 * row in order. The kernel writes SLOT_BLOCK int32 dots at a time into the slot's output.
 */
function scan(sp: Space, slot: number, query: Int16Array, segments: Segments, visit: (out: Int32Array, m: number, row0: number) => void): void {
  const qAt = SLOTS_AT + slot * SLOT_BYTES;
  const outAt = qAt + SLOT_QUERY;
  new Int16Array(sp.kern.memory.buffer, qAt, sp.stride).set(query);
  const out = new Int32Array(sp.kern.memory.buffer, outAt, SLOT_BLOCK);
  for (let s = 0; s < segments.length; s += 2) {
    const from = segments[s];
    const end = from + segments[s + 1];
    for (let b = from; b < end; b += SLOT_BLOCK) {
      const m = Math.min(SLOT_BLOCK, end - b);
      sp.kern.dotI8(qAt, ROWS_AT + b * sp.stride, m, outAt);
      visit(out, m, b);
    }
  }
}

function handle(msg: ToScanWorker): FromScanWorker {
  if (msg.type === 'attach') {
    spaces.set(msg.space, { kern: kernels(msg.stride, msg.memory), stride: msg.stride, scales: new Float32Array(msg.scales) });
    return { type: 'ok', id: msg.id, seconds: 0 };
  }
  if (msg.type === 'detach') {
    spaces.delete(msg.space);
    return { type: 'ok', id: msg.id, seconds: 0 };
  }
  if (msg.type === 'read') {
    const sp = space(msg.space);
    const t = performance.now();
    sp.kern.readSum(msg.at, msg.bytes);
    return { type: 'ok', id: msg.id, seconds: (performance.now() - t) / 1000 };
  }
  const sp = space(msg.space);
  const scales = sp.scales;
  const q = msg.qScale;
  if (msg.type === 'top') {
    const top = new TopK(Math.max(1, msg.k));
    scan(sp, msg.slot, msg.query, msg.segments, (out, m, row0) => {
      let t = top.threshold;
      for (let i = 0; i < m; i++) {
        const s = out[i] * q * scales[row0 + i];
        if (s > t) {
          top.push(s, row0 + i);
          t = top.threshold;
        }
      }
    });
    return { type: 'top', id: msg.id, scores: top.scores.slice(0, top.size), rows: top.ids.slice(0, top.size) };
  }
  const dst = new Float32Array(msg.dst);
  let o = msg.offset;
  scan(sp, msg.slot, msg.query, msg.segments, (out, m, row0) => {
    for (let i = 0; i < m; i++) dst[o + i] = out[i] * q * scales[row0 + i];
    o += m;
  });
  return { type: 'ok', id: msg.id, seconds: 0 };
}

port.on('message', (msg: ToScanWorker) => {
  let reply: FromScanWorker;
  try {
    reply = handle(msg);
  } catch (e) {
    reply = { type: 'error', id: msg.id, error: toEnvelope(e) };
  }
  port.postMessage(reply, reply.type === 'top' ? [reply.scores.buffer as ArrayBuffer, reply.rows.buffer as ArrayBuffer] : []);
});

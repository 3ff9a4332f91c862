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
function scan(
  sp: Space,
  slot: number,
  query: Int16Array,
  segments: Segments,
  visit: (out: Int32Array, m: number, row0: number) => void,
): void {
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

/** Row r of `src` as the int16 query in `dst`'s slot; returns the slot's query offset. */
function loadRow(src: Space, r: number, dst: Space, slot: number): number {
  const qAt = SLOTS_AT + slot * SLOT_BYTES;
  new Int16Array(dst.kern.memory.buffer, qAt, dst.stride).set(new Int8Array(src.kern.memory.buffer, ROWS_AT + r * src.stride, src.stride));
  return qAt;
}

/** Best rows of [from, from+n) of `sp` for the query at qAt (n ≤ SLOT_BLOCK) into `top`, as RowSpace.scanTop. */
function scanSmall(sp: Space, qAt: number, qScale: number, from: number, n: number, top: TopK): void {
  const outAt = qAt + SLOT_QUERY;
  sp.kern.dotI8(qAt, ROWS_AT + from * sp.stride, n, outAt);
  const out = new Int32Array(sp.kern.memory.buffer, outAt, n);
  let t = top.threshold;
  for (let i = 0; i < n; i++) {
    const s = out[i] * qScale * sp.scales[from + i];
    if (s > t) {
      top.push(s, from + i);
      t = top.threshold;
    }
  }
}

/** IvfIndex.build's assignment loop for the segments' rows (same order of pushes, so the same lists). */
function assign(
  rowsId: number,
  topId: number,
  leavesId: number,
  slot: number,
  topCount: number,
  nLeaf: number,
  probe: number,
  segments: Segments,
  list: Uint32Array,
): void {
  const rows = space(rowsId);
  const top = space(topId);
  const leaves = space(leavesId);
  const tops = new TopK(probe);
  const best = new TopK(1);
  for (let s = 0; s < segments.length; s += 2) {
    for (let r = segments[s]; r < segments[s] + segments[s + 1]; r++) {
      const qs = rows.scales[r];
      tops.size = 0;
      scanSmall(top, loadRow(rows, r, top, slot), qs, 0, topCount, tops);
      const lq = loadRow(rows, r, leaves, slot);
      best.size = 0;
      for (let i = 0; i < tops.size; i++) scanSmall(leaves, lq, qs, tops.ids[i] * nLeaf, nLeaf, best);
      list[r] = best.ids[0];
    }
  }
}

function handle(msg: ToScanWorker): FromScanWorker {
  if (msg.type === 'attach') {
    spaces.set(msg.space, { kern: kernels(msg.stride, msg.memory), stride: msg.stride, scales: new Float32Array(msg.scales) });
    return { type: 'ok', id: msg.id, seconds: 0, pieces: 0 };
  }
  if (msg.type === 'detach') {
    spaces.delete(msg.space);
    return { type: 'ok', id: msg.id, seconds: 0, pieces: 0 };
  }
  if (msg.type === 'read') {
    const sp = space(msg.space);
    const t = performance.now();
    sp.kern.readSum(msg.at, msg.bytes);
    return { type: 'ok', id: msg.id, seconds: (performance.now() - t) / 1000, pieces: 0 };
  }
  if (msg.type === 'assign') {
    assign(msg.rows, msg.top, msg.leaves, msg.slot, msg.topCount, msg.nLeaf, msg.probe, msg.segments, new Uint32Array(msg.list));
    return { type: 'ok', id: msg.id, seconds: 0, pieces: 0 };
  }
  const sp = space(msg.space);
  const scales = sp.scales;
  const q = msg.qScale;
  const counter = new Int32Array(msg.counter);
  let done = 0;
  if (msg.type === 'top') {
    const top = new TopK(Math.max(1, msg.k));
    for (let j = Atomics.add(counter, 0, 1); j < msg.pieces.length; j = Atomics.add(counter, 0, 1), done++) {
      scan(sp, msg.slot, msg.query, msg.pieces[j], (out, m, row0) => {
        let t = top.threshold;
        for (let i = 0; i < m; i++) {
          const s = out[i] * q * scales[row0 + i];
          if (s > t) {
            top.push(s, row0 + i);
            t = top.threshold;
          }
        }
      });
    }
    return { type: 'top', id: msg.id, scores: top.scores.slice(0, top.size), rows: top.ids.slice(0, top.size), pieces: done };
  }
  const dst = new Float32Array(msg.dst);
  for (let j = Atomics.add(counter, 0, 1); j < msg.pieces.length; j = Atomics.add(counter, 0, 1), done++) {
    let o = msg.offsets[j];
    scan(sp, msg.slot, msg.query, msg.pieces[j], (out, m, row0) => {
      for (let i = 0; i < m; i++) dst[o + i] = out[i] * q * scales[row0 + i];
      o += m;
    });
  }
  return { type: 'ok', id: msg.id, seconds: 0, pieces: done };
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

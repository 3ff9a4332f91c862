// Messages between the scan pool (pool.ts) and its worker threads (scan.worker.ts). Every request carries
// an id that its reply repeats. Rows are never copied: the worker attaches once per RowSpace to the same
// shared wasm memory and shared scales, then scans the segments it is sent.
import type { ErrorEnvelope } from '../../common/errors.js';
import type { WasmMemory } from './wasm.js';

/** [from, count] row segments, flattened: from0, n0, from1, n1, … */
export type Segments = Uint32Array;

export type ToScanWorker =
  /** Bind space `space` (re-sent when its scales buffer is replaced). */
  | { type: 'attach'; id: number; space: number; memory: WasmMemory; stride: number; scales: SharedArrayBuffer }
  /**
   * Work sharing: every worker gets the same request and claims pieces with Atomics.add on `counter`
   * (an Int32 in a SharedArrayBuffer) until none is left, so a worker the OS leaves waiting does not hold
   * the request up. Replies say how many pieces the worker did; the request is complete when they sum
   * to pieces.length.
   * top: the k best rows of the claimed pieces for the int16 query (scale qScale), in slot `slot`.
   */
  | {
      type: 'top';
      id: number;
      space: number;
      slot: number;
      query: Int16Array;
      qScale: number;
      pieces: Segments[];
      counter: SharedArrayBuffer;
      k: number;
    }
  /** Scores of piece j's rows, in order, into dst[offsets[j] …] (a shared Float32Array buffer). */
  | {
      type: 'scores';
      id: number;
      space: number;
      slot: number;
      query: Int16Array;
      qScale: number;
      pieces: Segments[];
      offsets: number[];
      counter: SharedArrayBuffer;
      dst: SharedArrayBuffer;
    }
  /** Sum the bytes [at, at + bytes) with the read kernel (the bandwidth probe); replies with seconds taken. */
  | { type: 'read'; id: number; space: number; at: number; bytes: number }
  /**
   * IVF assignment of the segments' rows of space `rows`: for each row, the best of the `probe` best top
   * centroids (space `top`, topCount rows), then the best leaf (space `leaves`, nLeaf per top) under
   * them; list[row] = that leaf (a shared Uint32Array buffer).
   */
  | {
      type: 'assign';
      id: number;
      rows: number;
      top: number;
      leaves: number;
      slot: number;
      topCount: number;
      nLeaf: number;
      probe: number;
      segments: Segments;
      list: SharedArrayBuffer;
    }
  /** Forget space `space` (its RowSpace was garbage-collected), releasing the worker's reference to its memory. */
  | { type: 'detach'; id: number; space: number };

export type FromScanWorker =
  | { type: 'ok'; id: number; seconds: number; pieces: number }
  | { type: 'top'; id: number; scores: Float32Array; rows: Float64Array; pieces: number }
  | { type: 'error'; id: number; error: ErrorEnvelope };

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
  /** The k best rows of the segments for the int16 query (scale qScale), written into slot `slot`. */
  | { type: 'top'; id: number; space: number; slot: number; query: Int16Array; qScale: number; segments: Segments; k: number }
  /** Scores of the segments' rows, in order, into dst[offset …] (a shared Float32Array buffer). */
  | { type: 'scores'; id: number; space: number; slot: number; query: Int16Array; qScale: number; segments: Segments; dst: SharedArrayBuffer; offset: number }
  /** Sum the bytes [at, at + bytes) with the read kernel (the bandwidth probe); replies with seconds taken. */
  | { type: 'read'; id: number; space: number; at: number; bytes: number }
  /**
   * IVF assignment of the segments' rows of space `rows`: for each row, the best of the `probe` best top
   * centroids (space `top`, topCount rows), then the best leaf (space `leaves`, nLeaf per top) under
   * them; list[row] = that leaf (a shared Uint32Array buffer).
   */
  | { type: 'assign'; id: number; rows: number; top: number; leaves: number; slot: number; topCount: number; nLeaf: number; probe: number; segments: Segments; list: SharedArrayBuffer }
  /** Forget space `space` (its RowSpace was garbage-collected), releasing the worker's reference to its memory. */
  | { type: 'detach'; id: number; space: number };

export type FromScanWorker =
  | { type: 'ok'; id: number; seconds: number }
  | { type: 'top'; id: number; scores: Float32Array; rows: Float64Array }
  | { type: 'error'; id: number; error: ErrorEnvelope };

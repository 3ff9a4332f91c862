// Resident int8 rows in one wasm memory, scored against a query with the SIMD kernel (wasm.ts).
// Memory layout: [0, 64 KiB) the int16 query; [64 KiB, +BLOCK·4) int32 kernel output for one block of
// rows; then MAX_SLOTS worker slots of SLOT_BYTES (a worker's own int16 query, then its int32 output for
// SLOT_BLOCK rows: pool.ts); then the rows, `stride` bytes each, appended contiguously. A wasm32 memory
// holds at most 4 GiB: about 10 M rows of 384 dims. The scales live in a SharedArrayBuffer so worker
// threads read the same ones (a larger buffer replaces it on growth: `scales.buffer` changes).
import { quantizeQuery, quantizeRow } from './quantize.js';
import { ensureBytes, kernels, type Kernels } from './wasm.js';

const QUERY_AT = 0;
const OUT_AT = 65536;
const BLOCK = 65536; // rows per kernel call
/** Worker slots: per slot a query of up to SLOT_QUERY bytes, then SLOT_BLOCK int32 outputs. */
export const SLOT_QUERY = 16384;
export const SLOT_BLOCK = 8192;
export const SLOT_BYTES = SLOT_QUERY + SLOT_BLOCK * 4;
export const MAX_SLOTS = 32;
export const SLOTS_AT = OUT_AT + BLOCK * 4;
/** Byte offset of row 0 in the wasm memory. */
export const ROWS_AT = SLOTS_AT + MAX_SLOTS * SLOT_BYTES;

const sharedF32 = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));
let nextSpaceId = 1;

/** The padded row length for `dim` values (a multiple of 16, as the kernel needs). */
export const strideFor = (dim: number): number => Math.ceil(dim / 16) * 16;

export class RowSpace {
  readonly dim: number;
  readonly stride: number;
  readonly kern: Kernels;
  /** A process-unique id (worker threads cache their kernel instance per space). */
  readonly id = nextSpaceId++;
  count = 0;
  scales: Float32Array = sharedF32(1024);

  constructor(dim: number) {
    this.dim = dim;
    this.stride = strideFor(dim);
    this.kern = kernels(this.stride);
    ensureBytes(this.kern.memory, ROWS_AT);
  }

  private reserve(rows: number): void {
    ensureBytes(this.kern.memory, ROWS_AT + rows * this.stride);
    if (rows > this.scales.length) {
      const s = sharedF32(Math.max(rows, this.scales.length * 2));
      s.set(this.scales.subarray(0, this.count));
      this.scales = s;
    }
  }

  /** Forget every row (the memory stays allocated for the next ones): a scratch space reused per query. */
  clear(): void {
    this.count = 0;
  }

  /** Quantise and append n float32 rows (n × dim, row-major); returns the first new row's index. */
  addFloat(src: Float32Array, n: number): number {
    const first = this.count;
    this.reserve(first + n);
    const mem = new Int8Array(this.kern.memory.buffer);
    for (let i = 0; i < n; i++) {
      this.scales[first + i] = quantizeRow(src, i * this.dim, this.dim, mem, ROWS_AT + (first + i) * this.stride, this.stride);
    }
    this.count += n;
    return first;
  }

  /** Append n already quantised rows (n × stride int8) with their scales. */
  addQuantized(rows: Int8Array, scales: Float32Array, n: number): number {
    const first = this.count;
    this.reserve(first + n);
    new Int8Array(this.kern.memory.buffer, ROWS_AT + first * this.stride, n * this.stride).set(rows.subarray(0, n * this.stride));
    this.scales.set(scales.subarray(0, n), first);
    this.count += n;
    return first;
  }

  /** Rows [from, from+n) as int8 (a view into the wasm memory: valid until the next append). */
  rowsView(from: number, n: number): Int8Array {
    return new Int8Array(this.kern.memory.buffer, ROWS_AT + from * this.stride, n * this.stride);
  }

  /** Row r dequantised to float32 (unit length up to quantisation error). */
  vector(r: number, dst: Float32Array = new Float32Array(this.dim)): Float32Array {
    const mem = new Int8Array(this.kern.memory.buffer, ROWS_AT + r * this.stride, this.dim);
    const s = this.scales[r];
    for (let j = 0; j < this.dim; j++) dst[j] = mem[j] * s;
    return dst;
  }

  /** Load `query` (normalised here) as the current query; returns its scale. */
  setQuery(query: Float32Array): number {
    const q16 = new Int16Array(this.kern.memory.buffer, QUERY_AT, this.stride);
    return quantizeQuery(query, this.dim, q16, this.stride);
  }

  /** Load stored row r of `src` (same stride) as the current query without requantising; returns its scale. */
  setQueryRow(src: RowSpace, r: number): number {
    new Int16Array(this.kern.memory.buffer, QUERY_AT, this.stride).set(src.rowsView(r, 1));
    return src.scales[r];
  }

  /** The row in [from, from+n) (n ≤ 65 536) with the largest score for the current query. */
  argmax(from: number, n: number): number {
    const out = new Int32Array(this.kern.memory.buffer, OUT_AT, n);
    this.kern.dotI8(QUERY_AT, ROWS_AT + from * this.stride, n, OUT_AT);
    let best = 0;
    let bestS = -Infinity;
    for (let i = 0; i < n; i++) {
      const s = out[i] * this.scales[from + i];
      if (s > bestS) {
        bestS = s;
        best = i;
      }
    }
    return from + best;
  }

  /**
   * Cosine of the current query (scale `qScale`) with rows [from, from+n): calls
   * visit(score, row) for each, in row order. Scores are exact for the quantised vectors.
   */
  scan(qScale: number, from: number, n: number, visit: (score: number, row: number) => void): void {
    const out = new Int32Array(this.kern.memory.buffer, OUT_AT, BLOCK);
    for (let b = from; b < from + n; b += BLOCK) {
      const m = Math.min(BLOCK, from + n - b);
      this.kern.dotI8(QUERY_AT, ROWS_AT + b * this.stride, m, OUT_AT);
      for (let i = 0; i < m; i++) visit(out[i] * qScale * this.scales[b + i], b + i);
    }
  }

  /** Like scan, into dst[0 .. n) (a tight loop with no callback: the heatmap path). */
  scanInto(qScale: number, from: number, n: number, dst: Float32Array): void {
    const out = new Int32Array(this.kern.memory.buffer, OUT_AT, BLOCK);
    const scales = this.scales;
    for (let b = from; b < from + n; b += BLOCK) {
      const m = Math.min(BLOCK, from + n - b);
      this.kern.dotI8(QUERY_AT, ROWS_AT + b * this.stride, m, OUT_AT);
      const o = b - from;
      for (let i = 0; i < m; i++) dst[o + i] = out[i] * qScale * scales[b + i];
    }
  }

  /** Top-k rows of [from, from+n) by cosine, into `heap`-like sink (threshold test inline). */
  scanTop(
    qScale: number,
    from: number,
    n: number,
    top: { readonly threshold: number; push(score: number, id: number): void },
    idOf?: (row: number) => number,
  ): void {
    const out = new Int32Array(this.kern.memory.buffer, OUT_AT, BLOCK);
    const scales = this.scales;
    for (let b = from; b < from + n; b += BLOCK) {
      const m = Math.min(BLOCK, from + n - b);
      this.kern.dotI8(QUERY_AT, ROWS_AT + b * this.stride, m, OUT_AT);
      let t = top.threshold;
      for (let i = 0; i < m; i++) {
        const s = out[i] * qScale * scales[b + i];
        if (s > t) {
          top.push(s, idOf ? idOf(b + i) : b + i);
          t = top.threshold;
        }
      }
    }
  }
}

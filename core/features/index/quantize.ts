// Row quantisation for the index. Rows are L2-normalised, then stored as int8 with one float32 scale per
// row: x ≈ scale · q, q ∈ [-127, 127], scale = max|x| / 127, so |x_j − scale·q_j| ≤ scale / 2 ≤ 1/254
// for a unit vector. Queries are quantised to int16 in [-16383, 16383] (the kernel accumulates int16·int8
// products in int32 lanes: 2·16383·127 per step, stride/4 steps per lane, safe up to stride 4096).

export const QUERY_MAX = 16383;

/** Scale `v` (length ≥ d) in place to unit L2 norm over its first d values; returns the original norm. */
export function normalize(v: Float32Array, d = v.length): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[j] * v[j];
  const n = Math.sqrt(s);
  if (n > 0) for (let j = 0; j < d; j++) v[j] /= n;
  return n;
}

/**
 * Quantise the d-vector src[off .. off+d) (normalised first) into dst[dOff .. dOff+stride), zero-padding
 * to `stride`; returns the row scale (0 for a zero vector).
 */
export function quantizeRow(src: Float32Array, off: number, d: number, dst: Int8Array, dOff: number, stride: number): number {
  let ss = 0;
  let m = 0;
  for (let j = 0; j < d; j++) {
    const x = src[off + j];
    ss += x * x;
    const a = Math.abs(x);
    if (a > m) m = a;
  }
  const norm = Math.sqrt(ss);
  if (norm === 0 || !Number.isFinite(norm)) {
    dst.fill(0, dOff, dOff + stride);
    return 0;
  }
  const scale = m / norm / 127;
  const inv = 1 / (scale * norm);
  for (let j = 0; j < d; j++) dst[dOff + j] = Math.round(src[off + j] * inv);
  dst.fill(0, dOff + d, dOff + stride);
  return scale;
}

/** The query (normalised copy) as int16 into dst[0 .. stride); returns the scale: q ≈ scale · dst. */
export function quantizeQuery(query: Float32Array, d: number, dst: Int16Array, stride: number): number {
  const q = Float32Array.from(query.subarray(0, d));
  normalize(q);
  let m = 0;
  for (let j = 0; j < d; j++) m = Math.max(m, Math.abs(q[j]));
  dst.fill(0, 0, stride);
  if (m === 0) return 0;
  const scale = m / QUERY_MAX;
  for (let j = 0; j < d; j++) dst[j] = Math.round(q[j] / scale);
  return scale;
}

/** Dequantise row r of `rows` back to float32 (unit length up to the quantisation error). */
export function dequantizeRow(
  rows: Int8Array,
  off: number,
  d: number,
  scale: number,
  dst: Float32Array = new Float32Array(d),
): Float32Array {
  for (let j = 0; j < d; j++) dst[j] = rows[off + j] * scale;
  return dst;
}

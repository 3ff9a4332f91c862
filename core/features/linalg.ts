// Small dense helpers over row-major Float32Array matrices, with 4-way unrolled inner loops.

/** Σ_j a[ao+j] · b[bo+j] for j < d. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < d; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** ‖a[ao .. ao+d) − b[bo .. bo+d)‖². */
export function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let j = 0;
  for (; j + 1 < d; j += 2) {
    const x = a[ao + j] - b[bo + j];
    const y = a[ao + j + 1] - b[bo + j + 1];
    s0 += x * x;
    s1 += y * y;
  }
  for (; j < d; j++) {
    const x = a[ao + j] - b[bo + j];
    s0 += x * x;
  }
  return s0 + s1;
}

/** Normalise every d-row of `m` (n rows) to unit L2 norm, in place (zero rows stay zero). */
export function normalizeRows(m: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt(dot(m, i * d, m, i * d, d));
    if (s > 0) for (let j = 0; j < d; j++) m[i * d + j] /= s;
  }
  return m;
}

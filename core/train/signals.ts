// Collapse signals (issue 5 item 5): the teacher's output entropy (computed in the teacher graph), the
// effective rank of the teacher's CLS features on the batch, and NaN detection.
//
// Effective rank (Roy & Vetterli, "The effective rank: a measure of effective dimensionality", EUSIPCO
// 2007): exp(H(σ/Σσ)) over the singular values σ of the centered feature matrix X (n, D). σ² are the
// eigenvalues of the n × n Gram matrix X Xᵀ, found here by cyclic Jacobi (n = 2B is small).
// A collapsed teacher (all samples equal) has rank → 0–1; a healthy one approaches min(n − 1, D).

/** Eigenvalues of the symmetric n × n matrix `a` (row-major, copied) by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: Float64Array, n: number, sweeps = 30): Float64Array {
  const m = Float64Array.from(a);
  for (let s = 0; s < sweeps; s++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq); // cot 2φ
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1)); // tan φ
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          // columns p, q ← rotation
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - sn * mkq;
          m[k * n + q] = sn * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          // rows p, q ← rotation
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - sn * mqk;
          m[q * n + k] = sn * mpk + c * mqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i * n + i]);
}

/** Effective rank of the rows of x (n, D), after centering. */
export function effectiveRank(x: Float32Array | Float64Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - mean[j]) * (x[k * d + j] - mean[j]);
      gram[i * n + k] = gram[k * n + i] = s;
    }
  }
  const sv = Array.from(symmetricEigenvalues(gram, n), (l) => Math.sqrt(Math.max(l, 0))); // σ
  const total = sv.reduce((a, b) => a + b, 0);
  if (!(total > 1e-12)) return 0;
  let h = 0;
  for (const s of sv) if (s > 0) h -= (s / total) * Math.log(s / total);
  return Math.exp(h);
}

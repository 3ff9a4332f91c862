// Symmetric eigendecomposition by the cyclic Jacobi method (Golub & Van Loan, Matrix Computations §8.5):
// repeated plane rotations zero each off-diagonal entry in turn until the off-diagonal mass vanishes.
// O(n³) per sweep and typically < 10 sweeps: about a second for the 384 × 384 covariance of ViT-S features.

export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as rows (n × n, row i belongs to values[i]), unit length. */
  vectors: Float64Array;
}

/** Eigen-decompose the symmetric n × n matrix `a` (row-major; only read). */
export function symmetricEigen(a: Float64Array | Float32Array, n: number, maxSweeps = 50): Eigen {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i] * m[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        // Rotation angle that zeroes m[p][q]: tan 2θ = 2 a_pq / (a_qq − a_pp).
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // m ← Jᵀ m J, touching rows/columns p and q only.
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        // v ← v J (columns of v are eigenvectors while iterating)
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, i) => {
    values[i] = m[col * n + col];
    for (let k = 0; k < n; k++) vectors[i * n + k] = v[k * n + col];
  });
  return { values, vectors };
}

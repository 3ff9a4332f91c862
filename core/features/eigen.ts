// Symmetric eigendecomposition: Householder reduction to tridiagonal form, then the implicit QL method with
// Wilkinson shifts (EISPACK tred2 / tql2, the algorithm of Golub & Van Loan, Matrix Computations §8.3).
// About (4/3 + 3)·n³ flops: ~1 s for the 1024 × 1024 covariance of ViT-L features, where the cyclic Jacobi
// method this replaces took minutes (bench/RESULTS.md, `npm run bench -- pca`).

export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as rows (n × n, row i belongs to values[i]), unit length. */
  vectors: Float64Array;
}

/** Eigen-decompose the symmetric n × n matrix `a` (row-major; only read). */
export function symmetricEigen(a: Float64Array | Float32Array, n: number): Eigen {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  // Both stages work on Qᵀ (A is symmetric, so it starts as A): the loops then run along rows, not down
  // columns, and the eigenvectors end as its rows.
  const w = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(w, d, e, n);
  diagonalize(w, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, i) => {
    values[i] = d[src];
    vectors.set(w.subarray(src * n, src * n + n), i * n);
  });
  return { values, vectors };
}

/**
 * tred2 on the transpose: T (n × n, row-major, holding A) becomes Qᵀ for the orthogonal Q of A = Q S Qᵀ with S
 * tridiagonal, d the diagonal of S and e[1..n) its sub-diagonal (e[0] = 0). Each T[c·n + r] here is V[r][c]
 * of EISPACK's tred2, so its inner loops read rows.
 */
function tridiagonalize(T: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = T[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    // Scale to avoid under/overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = T[j * n + i - 1];
        T[j * n + i] = 0;
        T[i * n + j] = 0;
      }
    } else {
      // The Householder vector.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j];
        T[i * n + j] = f;
        g = e[j] + T[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += T[j * n + k] * d[k];
          e[k] += T[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) T[j * n + k] -= f * e[k] + g * d[k];
        d[j] = T[j * n + i - 1];
        T[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    T[i * n + n - 1] = T[i * n + i];
    T[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = T[(i + 1) * n + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += T[(i + 1) * n + k] * T[j * n + k];
        for (let k = 0; k <= i; k++) T[j * n + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) T[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = T[j * n + n - 1];
    T[j * n + n - 1] = 0;
  }
  T[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * tql2: the symmetric tridiagonal (d, e) diagonalised by implicit QL with shifts; the rotations are applied
 * to W, whose ROWS are the columns of Q (so they end as the eigenvectors). Eigenvalues land in d, unsorted.
 */
function diagonalize(W: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    // m === n cannot happen (e[n − 1] is 0), but guards the reads below.
    if (m > l && m < n) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: the QL iteration did not converge');
        // The implicit shift.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // The implicit QL transformation.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Rotate eigenvector columns i and i + 1 (rows of W).
          const oi = i * n;
          const oj = oi + n;
          for (let k = 0; k < n; k++) {
            const wj = W[oj + k];
            const wi = W[oi + k];
            W[oj + k] = s * wi + c * wj;
            W[oi + k] = c * wi - s * wj;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

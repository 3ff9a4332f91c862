// Collapse signals, watched during every run: the teacher's output entropy (computed in the teacher graph), the
// effective rank of the teacher's CLS features on the batch, and NaN detection.
//
// Effective rank (Roy & Vetterli, "The effective rank: a measure of effective dimensionality", EUSIPCO
// 2007): exp(H(σ/Σσ)) over the singular values σ of the centered feature matrix X (n, D). σ² are the
// eigenvalues of the n × n Gram matrix X Xᵀ, found by the symmetric eigensolver of core/features/eigen.ts
// (n = 2B is small).
// A collapsed teacher (all samples equal) has rank → 0–1; a healthy one approaches min(n − 1, D).
//
// Entropy of the batch-mean target H(p̄), p̄ = mean_b p_t[b]: with the mean per-target entropy H̄ it splits
// the targets' information (DINO §5.3 reads collapse off H and the teacher–student KL): H(p̄) − H̄ is the
// mutual information between crop and prototype (≥ 0, ≤ ln 2B). One prototype for every crop: both → 0;
// uniform targets: both → ln K; the same non-uniform target for every crop: H(p̄) ≈ H̄ (no per-sample
// content, the small-run failure core/train/quality/dino-cls.test.ts guards against); healthy: H̄ low, H(p̄) high.
import { symmetricEigen } from '../features/eigen.js';

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
  const sv = Array.from(symmetricEigen(gram, n).values, (l) => Math.sqrt(Math.max(l, 0))); // σ
  const total = sv.reduce((a, b) => a + b, 0);
  if (!(total > 1e-12)) return 0;
  let h = 0;
  for (const s of sv) if (s > 0) h -= (s / total) * Math.log(s / total);
  return Math.exp(h);
}

/** Entropy (nats) of the mean of the rows of p (R, K), each row a probability vector. */
export function meanRowEntropy(p: Float32Array | Float64Array, R: number, K: number): number {
  let h = 0;
  for (let k = 0; k < K; k++) {
    let m = 0;
    for (let r = 0; r < R; r++) m += p[r * K + k];
    m /= R;
    if (m > 0) h -= m * Math.log(m);
  }
  return h;
}

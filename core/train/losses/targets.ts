// Teacher targets for the DINO and iBOT losses (recipe §3), built in the teacher graph.
//
// EMA centering (Caron et al. 2021, DINO; dinov2/loss/dino_clstoken_loss.py softmax_center_teacher /
// update_center): p_t = softmax((z_t − c) / τ_t); the center is an EMA of the batch mean of teacher logits,
//   c ← m·c + (1 − m)·mean_b z_t            (m = 0.9)
// applied lazily: the targets of step t use the center from batches ≤ t − 1 (the graph's center INPUT),
// and the updated center is an output for step t + 1.
//
// Sinkhorn-Knopp (Caron et al., "Unsupervised Learning of Visual Features by Contrasting Cluster
// Assignments" (SwAV), NeurIPS 2020; dinov2 sinkhorn_knopp_teacher), with B_tot real samples:
//   Q = exp(z/τ)ᵀ (K, B_tot); Q /= ΣQ; 3× { Q /= row sums; Q /= K; Q /= column sums; Q /= B_tot }; Q *= B_tot; → Qᵀ
// Deviation (numerics only): we subtract the global max of z/τ before exp; the first Q /= ΣQ cancels it
// exactly, and it keeps exp finite for DINOv3's unnormalised last layer. For iBOT the batch is a static
// buffer of U slots of which only the valid ones (weight > 0) are real: invalid columns are zeroed before
// the first normalisation and kept out of every sum, and B_tot is their count.
import { add, div, exp, greater, mul, sub, where, cast } from '../../graph/ops/elementwise.js';
import { softmax } from '../../graph/ops/nn.js';
import { reduceMax, reduceSum } from '../../graph/ops/reduce.js';
import { reshape } from '../../graph/ops/shape.js';
import { type Tensor } from '../../graph/tensor.js';
import { stopGradient } from '../../graph/autodiff.js';

/** softmax((z − c)/τ) over K for z (R, K), center c (1, K), temperature τ a scalar tensor. */
export function centeredSoftmax(z: Tensor, center: Tensor, temp: Tensor): Tensor {
  return softmax(div(sub(z, center), temp), -1); // (R, K)
}

/**
 * The new center m·c + (1 − m)·mean(z) over rows; with `valid` (R,) (1 real, 0 padding) the mean runs over
 * the valid rows only (iBOT: the masked patches).
 */
export function updateCenter(z: Tensor, center: Tensor, momentum: number, valid?: Tensor): Tensor {
  const [R] = z.shape;
  let mean: Tensor; // (1, K)
  if (valid) {
    const v = reshape(valid, [R, 1]); // (R, 1)
    mean = div(reduceSum(mul(z, v), [0], true), add(reduceSum(v), 1e-12)); // (1, K)
    // An empty buffer (no masked patch at all) leaves the center where it was.
    const any = greater(reduceSum(v), 0);
    mean = where(any, mean, center);
  } else {
    mean = mul(reduceSum(z, [0], true), 1 / R); // (1, K)
  }
  return add(mul(center, momentum), mul(mean, 1 - momentum));
}

/**
 * Sinkhorn-Knopp targets for z (R, K) at temperature τ (scalar tensor), `iterations` rounds (3).
 * `valid` (R,) marks real rows (default all). Returns (R, K) with each real row summing to 1, zero rows
 * for padding.
 */
export function sinkhornKnopp(z: Tensor, temp: Tensor, iterations = 3, valid?: Tensor): Tensor {
  const [R, K] = z.shape;
  const zt = div(z, temp); // (R, K)
  const m = stopGradient(reduceMax(zt)); // scalar; cancels in Q /= ΣQ
  let q = exp(sub(zt, m)); // (R, K) = Qᵀ: rows are samples, columns prototypes
  let bTot: Tensor | number = R;
  let v: Tensor | null = null;
  if (valid) {
    v = reshape(cast(greater(valid, 0), z.dtype), [R, 1]); // (R, 1) 1 real / 0 padding
    q = mul(q, v);
    bTot = reduceSum(v); // scalar: the number of real samples
  }
  q = div(q, reduceSum(q)); // Q /= ΣQ
  for (let it = 0; it < iterations; it++) {
    // "rows" of Q (K, B) are the prototypes = our columns: normalise each prototype's mass to 1/K.
    q = mul(div(q, reduceSum(q, [0], true)), 1 / K); // (R, K) / (1, K)
    // "columns" of Q are the samples = our rows: each sample's mass to 1/B_tot.
    let rowSum = reduceSum(q, [1], true); // (R, 1)
    if (v) rowSum = add(rowSum, sub(1, v)); // padding rows: divide 0 by 1, not by 0
    q = div(div(q, rowSum), bTot);
  }
  return mul(q, bTot); // each real row sums to 1
}

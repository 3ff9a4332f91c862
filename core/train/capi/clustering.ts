// CAPI's online clustering head (Darcet et al., "Cluster and Predict Latent Patches for Improved Masked
// Image Modeling", 2025; capi/model.py OnlineClustering): the teacher's patch tokens are L2-normalised
// (eps 1e-7) and projected by a Linear with bias onto K prototypes; Sinkhorn-Knopp on logits / τ_target
// (0.06, 3 iterations) gives the assignments the student predicts. SK is positionwise: for each patch
// position its own transport problem over the images of the batch (the official code passes the tokens as
// (positions, batch, D) and normalises over the batch axis, then over the prototypes). The head itself is
// trained by CE(assignments, softmax(logits / τ_pred)) (τ_pred 0.12), mean over every token; its input is
// the teacher's output, so only the head gets that gradient.
import { stopGradient } from '../../graph/autodiff.js';
import { add, div, exp, mul, neg, sub } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/linalg.js';
import { l2Normalize, logSoftmax } from '../../graph/ops/nn.js';
import { reduceMax, reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { type Tensor } from '../../graph/tensor.js';

export interface ClusteringConfig {
  /** τ of the Sinkhorn-Knopp targets (capi.clustering_kwargs.target_temp 0.06). */
  targetTemp: number;
  /** τ of the head's own prediction in its loss (pred_temp 0.12). */
  predTemp: number;
  /** Sinkhorn-Knopp iterations (n_sk_iter 3). */
  iterations: number;
}

export const CLUSTERING_DEFAULTS: Readonly<ClusteringConfig> = { targetTemp: 0.06, predTemp: 0.12, iterations: 3 };

/** The official stable_exp: exp(M − max over the batch + 50) (50: the float32 headroom it keeps). */
const EXP_HEADROOM = 50;
/** The official sinkhorn_knopp's eps added to every normaliser. */
const SK_EPS = 1e-8;

/**
 * Positionwise Sinkhorn-Knopp of scores m (B, N, K) (already divided by τ): per position n, the (B, K)
 * problem normalised over the batch (axis 0), then over the prototypes (axis 2), `iterations` times.
 * Rows (b, n) of the result sum to 1. No gradient (the caller passes a stopped tensor).
 */
export function positionwiseSinkhorn(m: Tensor, iterations: number): Tensor {
  let q = exp(add(sub(m, reduceMax(m, [0], true)), EXP_HEADROOM)); // (B, N, K)
  for (let i = 0; i < iterations; i++) {
    q = div(q, add(reduceSum(q, [0], true), SK_EPS)); // each (position, prototype) column over the batch
    q = div(q, add(reduceSum(q, [2], true), SK_EPS)); // each token's row over the prototypes
  }
  return q;
}

/**
 * The head on the teacher's patch tokens x (B, N, D) with weight (D, K) (graph layout: PyTorch's (K, D)
 * transposed) and bias (K,): the assignments (B, N, K) (no gradient), the logits and the head's loss.
 */
export function onlineClustering(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  c: ClusteringConfig = CLUSTERING_DEFAULTS,
): { assignments: Tensor; logits: Tensor; loss: Tensor } {
  const logits = clusteringLogits(x, weight, bias); // (B, N, K)
  const assignments = stopGradient(positionwiseSinkhorn(div(stopGradient(logits), c.targetTemp), c.iterations)); // (B, N, K)
  const loss = clusterCrossEntropy(logits, assignments, c.predTemp);
  return { assignments, logits, loss };
}

/** The head's logits: L2-normalise (eps 1e-7), then Linear with bias. x (…, D), weight (D, K), bias (K,). */
export function clusteringLogits(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
  return add(matmul(l2Normalize(x, -1, 1e-7), weight), bias);
}

/** mean over tokens of −Σ_k target · log_softmax(logits / τ): the CAPI loss and the clustering head's. */
export function clusterCrossEntropy(logits: Tensor, targets: Tensor, temp: number): Tensor {
  const lsm = logSoftmax(mul(logits, 1 / temp), -1);
  return neg(reduceMean(reduceSum(mul(targets, lsm), [-1])));
}

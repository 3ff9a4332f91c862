// KoLeo regulariser (Sablayrolles et al., "Spreading vectors for similarity search", ICLR 2019; as in
// dinov2/loss/koleo_loss.py): on the student's pre-head CLS features x (B, D) of ONE global crop,
//   x̂ = x / max(‖x‖, 1e-8);   nn(i) = argmax_{j≠i} x̂_i·x̂_j;
//   L = −mean_i log(‖x̂_i − x̂_nn(i) + 1e-8‖ + 1e-8)          (torch PairwiseDistance adds eps to the difference)
// The neighbour is chosen without gradient (ArgMax); the gradient flows through the chosen pair's distance.
// DINOv2 applies it per global crop and sums: 0.1 × (L(crop 1) + L(crop 2)).
import { type Graph } from '../../graph/graph.js';
import { add, log, mul, neg, sqrt, where } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/linalg.js';
import { l2Normalize } from '../../graph/ops/nn.js';
import { argMax, reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { gather, transposeLast2 } from '../../graph/ops/shape.js';
import { type Tensor, hostTensor } from '../../graph/tensor.js';
import { stopGradient } from '../../graph/autodiff.js';

/** KoLeo loss of x (B, D), a scalar. */
export function koleoLoss(g: Graph, x: Tensor): Tensor {
  const [B] = x.shape;
  const xn = l2Normalize(x, -1, 1e-8); // (B, D)
  const dots = stopGradient(matmul(xn, transposeLast2(xn))); // (B, B) cosine similarities
  const eye = hostTensor('bool', [B, B]);
  for (let i = 0; i < B; i++) (eye.data as Uint8Array)[i * B + i] = 1;
  const masked = where(g.constant(eye, 'koleo_eye'), -1, dots); // the diagonal filled with −1, as dinov2
  const nn = argMax(masked, 1); // (B,) int64
  const neighbour = gather(xn, nn, 0); // (B, D)
  const diff = add(add(xn, neg(neighbour)), 1e-8); // (B, D)
  const dist = sqrt(reduceSum(mul(diff, diff), [-1])); // (B,)
  return neg(reduceMean(log(add(dist, 1e-8))));
}

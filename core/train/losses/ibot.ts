// iBOT masked-patch loss (Zhou et al., "iBOT: Image BERT Pre-Training with Online Tokenizer", ICLR 2022;
// dinov2/loss/ibot_patch_loss.py forward_masked). The student sees masked global crops; at each masked
// position its patch logits are matched to the unmasked teacher's targets at the same position:
//   L_iBOT = −(1/2B) Σ_m w_m Σ_k p_t[m, k] · log_softmax(z_s[m] / τ_s)[k]
// with w_m = 1 / (masked patches in m's image), so each image contributes the mean over its masked patches
// and the sum is divided by ALL 2B global-crop images (unmasked images contribute 0).
// Static shapes: m runs over a buffer of U = upperBound slots (core/data/train/masking.ts); padding slots
// carry w = 0 and so drop out.
import { mul, neg } from '../../graph/ops/elementwise.js';
import { logSoftmax } from '../../graph/ops/nn.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { reshape } from '../../graph/ops/shape.js';
import { type Tensor } from '../../graph/tensor.js';

export interface IbotLossInputs {
  /** Student iBOT-head logits at the masked slots, (U, K). */
  student: Tensor;
  /** Teacher targets at the same slots, (U, K) (rows of padding slots are ignored). */
  teacher: Tensor;
  /** (U,) per-slot weights 1/n_masked(image), 0 on padding. */
  weights: Tensor;
  /** 2B: the number of global-crop images the sum is divided by. */
  images: number;
  studentTemp: number;
}

export function ibotLoss(i: IbotLossInputs): Tensor {
  const [U] = i.student.shape;
  const lsm = logSoftmax(mul(i.student, 1 / i.studentTemp), -1); // (U, K)
  const ce = reduceSum(mul(i.teacher, lsm), [-1]); // (U,): Σ_k p_t · lsm
  const w = reshape(i.weights, [U]); // (U,)
  return mul(neg(reduceSum(mul(ce, w))), 1 / i.images);
}

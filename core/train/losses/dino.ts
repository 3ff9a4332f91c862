// DINO self-distillation loss on the CLS token (Caron et al., "Emerging Properties in Self-Supervised Vision
// Transformers", ICCV 2021; Oquab et al., "DINOv2", 2023 — dinov2/loss/dino_clstoken_loss.py and the pairing
// in dinov2/train/ssl_meta_arch.py). For one (teacher crop, student crop) pair:
//   CE = −mean_b Σ_k p_t[b, k] · log_softmax(z_s[b] / τ_s)[k]
// Pairs: every local crop against both teacher globals (2·nLocal) plus the two cross global pairs
// (student global 1 ↔ teacher global 2 and vice versa; same-view pairs are excluded).
//   L_DINO = (Σ pairs CE) / (2 + 2·nLocal)       — 18 pairs for 2 globals + 8 locals
import { add, mul, neg } from '../../graph/ops/elementwise.js';
import { logSoftmax } from '../../graph/ops/nn.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { concat, reshape, slice } from '../../graph/ops/shape.js';
import { type Tensor } from '../../graph/tensor.js';

export interface DinoLossInputs {
  /** Student logits of its 2 global crops, (2B, K), crop index outer (global 1 of every sample, then global 2). */
  studentGlobal: Tensor;
  /** Student logits of its local crops, (nLocal·B, K), crop index outer; null with no local crops. */
  studentLocal: Tensor | null;
  /** Teacher targets (probabilities) of the 2 unmasked global crops, (2B, K), same order as studentGlobal. */
  teacher: Tensor;
  /** Student temperature τ_s (0.1). */
  studentTemp: number;
  /** Weight of the local-crop pairs (DINOv3 high-res adaptation 0.5); default 1. The pair count is unchanged. */
  localWeight?: number;
}

/** The DINO loss (a scalar) and the number of pairs it averages. */
export function dinoLoss(i: DinoLossInputs): { loss: Tensor; pairs: number } {
  const [B2, K] = i.studentGlobal.shape;
  const B = B2 / 2;
  const lsmG = logSoftmax(mul(i.studentGlobal, 1 / i.studentTemp), -1); // (2B, K)
  // Cross pairs: student global c against teacher global 1 − c.
  const t1 = slice(i.teacher, [0], [0], [B]); // (B, K)
  const t2 = slice(i.teacher, [0], [B], [B2]); // (B, K)
  const swapped = concat([t2, t1], 0); // (2B, K): teacher order [2, 1]
  // Σ over the 2 pairs of mean_b: (1/B) Σ_{b,k} t·lsm
  let total = mul(reduceSum(mul(swapped, lsmG)), 1 / B);
  let pairs = 2;
  if (i.studentLocal) {
    const nL = i.studentLocal.shape[0] / B;
    const lsmL = reshape(logSoftmax(mul(i.studentLocal, 1 / i.studentTemp), -1), [nL, B, K]); // (nL, B, K)
    const tSum = reshape(add(t1, t2), [1, B, K]); // (1, B, K): both teacher globals against each local crop
    total = add(total, mul(reduceSum(mul(lsmL, tSum)), (i.localWeight ?? 1) / B));
    pairs += 2 * nL;
  }
  return { loss: mul(neg(total), 1 / pairs), pairs };
}

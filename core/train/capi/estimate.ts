// What a CAPI run needs, said before it starts (as distill/estimate.ts for distillation): peak memory and the
// work of a step, first-order and float32 throughout.
// Memory: the encoder (student, its AdamW state and gradients, the EMA teacher), the predictor + student head
// (with AdamW), the clustering head (with its own AdamW); the student's activations saved for the backward
// (encoder on the visible tokens, predictor's cross-attention on the predicted queries, the student head's
// logits), the teacher's forward one block at a time plus its clustering logits over every patch (Sinkhorn's
// working set), and three onnxruntime sessions. Work: the teacher forward and clustering head, the student's
// forward + backward (≈ 3 × its forward). Seconds per step are measured by the run after its first steps
// (and by the Train panel before Start).
import { type ViTConfig, ffnHidden, patchGrid } from '../../model/config.js';
import { paramCount } from '../../model/params.js';
import { type TrainConfig } from '../config.js';
import { forwardFlops } from '../distill/estimate.js';
import { formatMemory } from '../gram/memory.js';
import { capiMaskCounts } from './masking.js';

export interface CapiEstimate {
  totalBytes: number;
  gflop: number;
  lines: string[];
}

/** A parameter count in words: millions, or thousands for the tiny test models. */
const count = (n: number): string => (n >= 1e5 ? `${(n / 1e6).toFixed(1)} M` : `${(n / 1e3).toFixed(1)} k`);
const gf = (g: number): string => (g >= 1 ? g.toFixed(1) : g.toPrecision(2));

export function capiEstimate(c: TrainConfig, vit: ViTConfig): CapiEstimate {
  const M = 2 * c.batchSize; // the step's images: the batch's 2B global crops
  const { h, w } = patchGrid(vit, c.crops.globalSize, c.crops.globalSize);
  const N = h * w;
  const counts = capiMaskCounts(N, c.capi.maskRatio, c.capi.predictFraction);
  const D = vit.dim;
  const F = ffnHidden(vit) * (vit.ffn === 'swiglu' ? 1.5 : 1);
  const K = c.capi.prototypes;
  const L = c.capi.predictorDepth;
  const prefix = 1 + vit.registers;
  const Ts = prefix + counts.visible; // the student's tokens
  const Tt = prefix + N; // the teacher's
  const Q = counts.predict;
  const enc = paramCount(vit);
  const pred = L * (4 * D * D + 2 * D * F + 6 * D) + D * K + D;
  const clu = D * K + K;
  // Parameters: student encoder + predictor ×4 (weights, gradients, AdamW m, v), teacher encoder, clustering ×4.
  const paramFloats = 4 * (enc + pred) + enc + 4 * clu;
  const studentSaved =
    M * vit.depth * (Ts * (11 * D + 2 * F) + 2 * vit.heads * Ts * Ts) + // encoder on the visible tokens
    M * L * (Q * (11 * D + 2 * F) + 2 * vit.heads * Q * Ts + 2 * Ts * D) + // predictor: queries over the context
    3 * M * Q * K; // student logits, softmax, gradient
  const teacherPeak = (M * (Tt * (11 * D + 2 * F) + 2 * vit.heads * Tt * Tt)) / 2 + 4 * M * N * K; // one block; logits + Sinkhorn
  const totalBytes = (paramFloats + studentSaved + teacherPeak) * 4 + 3 * 32 * 2 ** 20;
  const predictorFlops = 2 * L * (2 * Q * D * D + 2 * Ts * D * D + 2 * Q * Ts * D + 2 * Q * D * F) + 2 * Q * D * K;
  const teacherGflop = (M * (forwardFlops(vit, c.crops.globalSize) + 2 * N * D * K) * 3) / 1e9; // forward, clustering head forward + backward
  const studentGflop = (3 * M * (forwardFlops(vit, c.crops.globalSize) * (Ts / Tt) + predictorFlops)) / 1e9;
  const gflop = teacherGflop + studentGflop;
  return {
    totalBytes,
    gflop,
    lines: [
      `memory: ${formatMemory(totalBytes)} (encoder ${count(enc)} parameters, predictor ${count(pred)}, clustering head ${count(clu)}; ${M} images a step, ${counts.visible} of ${N} patches visible, ${Q} predicted)`,
      `work: ${gf(gflop)} GFLOP a step (teacher and clustering head ${gf(teacherGflop)}, student ${gf(studentGflop)}); seconds per step are measured after the first steps`,
    ],
  };
}

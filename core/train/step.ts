// The student step as ONE graph (dinov2/train/ssl_meta_arch.py forward_backward + the optimiser step):
//   student backbone on the 2B masked global crops (B2, 3, G, G) and the nLocal·B local crops (batched per
//   crop size), DINO head on every CLS, iBOT head on the patch tokens at the masked slots, the three
//   losses against the teacher's targets (graph inputs), backward, per-submodule clipping, AdamW.
// Inputs fed per step: images, masks, iBOT slots and weights, teacher targets, lr, wd, last-layer gate,
// (v3) RoPE augmentation draws, and with Gram anchoring the Gram teacher's patch tokens and the loss weight
// (a scalar input, so the schedule needs no rebuild). State (parameters, moments, step count) stays in the
// StepRunner. Shapes are static: one graph per (global, local, gram) size triple (trainer.ts caches them).
// Mixed precision (`lowering.mixedPrecision`, core/graph/amp.ts): the backbone's and heads' products in
// float16, the gradient seeded with the dynamic loss scale (state), AdamW unscaling it and skipping a step
// whose gradients overflowed; the scale's state joins the optimiser state.
import { grad } from '../graph/autodiff.js';
import { Graph, type GraphLowering } from '../graph/graph.js';
import { add, mul } from '../graph/ops/elementwise.js';
import { concat, gather, reshape, slice } from '../graph/ops/shape.js';
import { ADAMW_INPUTS, type AdamWStep, adamw, gradNormOutput } from '../graph/optim.js';
import { adamwPerTensor } from '../graph/optim-per-tensor.js';
import { LOSS_SCALE_DEFAULTS, LOSS_SCALE_IO, type LossScaleOptions, lossScaleInputs, updateLossScale } from '../graph/amp.js';
import { type HostTensor, type Tensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../model/config.js';
import { layerDecayMultiplier, paramSpecs } from '../model/params.js';
import { buildViT } from '../model/vit.js';
import { type HeadConfig, dinoHead, headParamSpecs } from './heads.js';
import { dinoLoss } from './losses/dino.js';
import { ibotLoss } from './losses/ibot.js';
import { koleoLoss } from './losses/koleo.js';
import { gramLoss } from './gram/loss.js';
import { featureDistilLoss, projectTokens } from './distill/feature-loss.js';
import { graphIO } from './graph-io.js';
import { HEADS, type HeadName, type ParamLayout, declareModel } from './model.js';

export interface StepSpec {
  vit: ViTConfig;
  head: HeadConfig;
  /** B tiles per step. */
  batch: number;
  globalSize: number;
  localSize: number;
  localCrops: number;
  /** U: the static masked-slot buffer length (core/data/train/masking.ts maskUpperBound). */
  maskSlots: number;
  loss: { studentTemp: number; dinoWeight: number; ibotWeight: number; koleoWeight: number; localWeight?: number; koleoGroup?: number };
  /** Gram anchoring: the Gram teacher's crop side (its patch tokens are an input) and width (default the
   * student's; a distillation teacher's is its own); null: off. `loss: 'feature'` puts distillation's feature
   * regression in its place (distill/feature-loss.ts: the teacher's tokens on the student's grid, projected in
   * the graph by the `feature/mean` and `feature/projection` inputs). */
  gram: { teacherSize: number; teacherDim?: number; loss?: 'gram' | 'feature' } | null;
  optim: { layerDecay: number; patchEmbedLrMult: number; clipGrad: number; beta1: number; beta2: number };
  remat: boolean;
  /** Op forms for the provider the step runs on (core/graph GraphLowering); default: the CPU's. With
   * `mixedPrecision` the step trains in mixed precision with dynamic loss scaling. */
  lowering?: GraphLowering;
  /**
   * 'flat' (default): parameters in flat buffers, AdamW on them (model.ts, core/graph/optim.ts). 'per-tensor':
   * one graph parameter and one AdamW chain per tensor, the form before flat buffers (core/graph/
   * optim-per-tensor.ts), kept as the test oracle and for the bench's comparison.
   */
  params?: ParamLayout;
  /** Dynamic loss scaling of a mixed-precision step (default: GradScaler's, amp.ts LOSS_SCALE_DEFAULTS). */
  lossScale?: LossScaleOptions;
}

/** What the trainer feeds the step graph each step (B tiles, U mask slots, K prototypes). */
export interface StepFeeds {
  /** (2B, C, G, G) global crops, crop outer (C = the backbone's inChans: 3 for RGB). */
  global: HostTensor;
  /** (2B, N) bool: true = masked patch. */
  masks: HostTensor;
  /** (nLocal·B, C, L, L) local crops; absent with no local crops. */
  local?: HostTensor;
  /** (U,) int64 flat indices into (2B·N) of the masked slots. */
  ibotIndices: HostTensor;
  /** (U,) iBOT weight per slot, 0 on padding. */
  ibotWeights: HostTensor;
  /** (2B, K) and (U, K): the teacher's targets. */
  teacherDino: HostTensor;
  teacherIbot: HostTensor;
  /** Scalars of this step's schedule: lr multiplier of the heads' last layers (0 while frozen), lr, weight decay. */
  lastLayerGate: HostTensor;
  lr: HostTensor;
  wd: HostTensor;
  /** (depth, 5) RoPE augmentation draws of the global and local crops (DINOv3 with augmentation on). */
  ropeGlobal?: HostTensor;
  ropeLocal?: HostTensor;
  /** (2B, Nt, D) the Gram teacher's patch tokens and the scalar Gram loss weight (Gram anchoring on). */
  gramTeacher?: HostTensor;
  gramWeight?: HostTensor;
  /** Distillation's feature regression: (Dt) mean and (Dt, D) projection of the teacher's tokens. */
  featureMean?: HostTensor;
  featureProjection?: HostTensor;
}

/** What the step graph returns besides the next state: scalar losses and pre-clipping gradient norms. */
export interface StepOutputs {
  dino: HostTensor;
  ibot: HostTensor;
  koleo: HostTensor;
  /** Only with Gram anchoring on. */
  gram?: HostTensor;
  total: HostTensor;
  gradNormBackbone: HostTensor;
  gradNormDinoHead: HostTensor;
  gradNormIbotHead: HostTensor;
  /** Mixed precision only: 1 when the update was skipped (a gradient overflowed in float16), else 0. */
  skipped?: HostTensor;
  /** Mixed precision only: the loss scale after this step. */
  lossScale?: HostTensor;
}

/** The step graph's optimiser groups (AdamW clips and reports each) and their output keys. */
export const STEP_GRAD_NORMS: Readonly<Record<'backbone' | HeadName, 'gradNormBackbone' | 'gradNormDinoHead' | 'gradNormIbotHead'>> = {
  backbone: 'gradNormBackbone',
  dino_head: 'gradNormDinoHead',
  ibot_head: 'gradNormIbotHead',
};

export const STEP_IO = graphIO<StepFeeds, StepOutputs>(
  {
    global: 'global',
    masks: 'masks',
    local: 'local',
    ibotIndices: 'ibot/indices',
    ibotWeights: 'ibot/weights',
    teacherDino: 'teacher/dino',
    teacherIbot: 'teacher/ibot',
    lastLayerGate: 'optim/last_layer_gate',
    lr: ADAMW_INPUTS.lr,
    wd: ADAMW_INPUTS.wd,
    ropeGlobal: 'rope_aug/global',
    ropeLocal: 'rope_aug/local',
    gramTeacher: 'gram/teacher',
    gramWeight: 'gram/weight',
    featureMean: 'feature/mean',
    featureProjection: 'feature/projection',
  },
  {
    dino: 'loss/dino',
    ibot: 'loss/ibot',
    koleo: 'loss/koleo',
    gram: 'loss/gram',
    total: 'loss/total',
    gradNormBackbone: gradNormOutput('backbone'),
    gradNormDinoHead: gradNormOutput('dino_head'),
    gradNormIbotHead: gradNormOutput('ibot_head'),
    skipped: LOSS_SCALE_IO.skipped,
    lossScale: LOSS_SCALE_IO.scaleAfter,
  },
);

export interface StepGraph {
  graph: Graph;
  opt: AdamWStep;
  /** The graph's output names besides the next state (STEP_IO.outputs; the Gram loss only with Gram anchoring). */
  outputs: string[];
  /** Whether the graph takes RoPE augmentation inputs (DINOv3 with augmentation on). */
  ropeAug: boolean;
  /** Whether the step trains in mixed precision (its outputs then include `skipped` and `lossScale`). */
  mixed: boolean;
}

/** Whether the student gets RoPE augmentation draws (v3 with any augmentation enabled). */
export function usesRopeAug(vit: ViTConfig): boolean {
  const a = vit.rope?.augment;
  return !!a && (a.shift !== null || a.jitter !== null || a.rescale !== null);
}

export function buildStepGraph(s: StepSpec): StepGraph {
  const g = new Graph('student_step', s.lowering);
  const { vit, batch: B } = s;
  const { h, w } = patchGrid(vit, s.globalSize, s.globalSize);
  const N = h * w;
  const D = vit.dim;
  const K = s.head.prototypes;
  const U = s.maskSlots;
  const I = STEP_IO.inputs;
  const O = STEP_IO.outputs;
  const globals = g.input(I.global, [2 * B, vit.inChans, s.globalSize, s.globalSize]); // (2B, C, G, G)
  const masks = g.input(I.masks, [2 * B, N], 'bool'); // (2B, N) true = masked
  const locals = s.localCrops > 0 ? g.input(I.local, [s.localCrops * B, vit.inChans, s.localSize, s.localSize]) : null; // (nL·B, C, L, L)
  const idx = g.input(I.ibotIndices, [U], 'int64'); // (U,) flat indices into (2B·N)
  const wts = g.input(I.ibotWeights, [U]); // (U,)
  const tDino = g.input(I.teacherDino, [2 * B, K]); // (2B, K) teacher crop order
  const tIbot = g.input(I.teacherIbot, [U, K]); // (U, K)
  const gate = g.input(I.lastLayerGate, [], 'float32', 'last-layer lr multiplier: 0 while frozen, else 1');
  const rope = usesRopeAug(vit);
  const ropeG = rope ? g.input(I.ropeGlobal, [vit.depth, 5]) : undefined;
  const ropeL = rope && locals ? g.input(I.ropeLocal, [vit.depth, 5]) : undefined;

  const p = declareModel(g, vit, s.head, s.params);
  const outG = g.scope('global', () =>
    buildViT(g, globals, vit, { params: p.backbone, masks, training: { ropeAug: ropeG }, remat: s.remat }),
  );
  const outL = locals
    ? g.scope('local', () => buildViT(g, locals, vit, { params: p.backbone, training: { ropeAug: ropeL }, remat: s.remat }))
    : null;

  // DINO head on every CLS token at once.
  const cls = outL ? concat([outG.cls, outL.cls], 0) : outG.cls; // (2B + nL·B, D)
  const logits = g.scope('dino_head', () => dinoHead(cls, s.head, p.heads.dino_head)); // (2B + nL·B, K)
  const sGlobal = slice(logits, [0], [0], [2 * B]); // (2B, K)
  const sLocal = outL ? slice(logits, [0], [2 * B], [logits.shape[0]]) : null; // (nL·B, K)
  const dino = g.scope(
    'loss_dino',
    () =>
      dinoLoss({
        studentGlobal: sGlobal,
        studentLocal: sLocal,
        teacher: tDino,
        studentTemp: s.loss.studentTemp,
        localWeight: s.loss.localWeight ?? 1,
      }).loss,
  );

  // iBOT head on the patch tokens at the masked slots.
  const flat = reshape(outG.patches, [2 * B * N, D]); // (2B·N, D)
  const picked = gather(flat, idx, 0); // (U, D)
  const ibotLogits = g.scope('ibot_head', () => dinoHead(picked, s.head, p.heads.ibot_head)); // (U, K)
  const ibot = g.scope('loss_ibot', () =>
    ibotLoss({ student: ibotLogits, teacher: tIbot, weights: wts, images: 2 * B, studentTemp: s.loss.studentTemp }),
  );

  // KoLeo per global crop on the pre-head CLS (DINOv3: neighbours within groups of koleoGroup samples).
  const group = s.loss.koleoGroup ?? 0;
  const koleoOf = (crop: Tensor): Tensor => (group >= 2 && group < B ? groupedKoleo(g, crop, group) : koleoLoss(g, crop));
  const koleo = g.scope('loss_koleo', () => add(koleoOf(slice(outG.cls, [0], [0], [B])), koleoOf(slice(outG.cls, [0], [B], [2 * B]))));

  let total = add(add(mul(dino, s.loss.dinoWeight), mul(ibot, s.loss.ibotWeight)), mul(koleo, s.loss.koleoWeight));
  if (s.gram) {
    // Gram anchoring (recipe §3): the student's (masked) global patch tokens against the Gram teacher's.
    const tg = patchGrid(vit, s.gram.teacherSize, s.gram.teacherSize);
    const gramTeacher = g.input(I.gramTeacher, [2 * B, tg.h * tg.w, s.gram.teacherDim ?? D]); // (2B, Nt, Dt) Gram teacher patch tokens
    const gramW = g.input(I.gramWeight, [], 'float32', 'Gram loss weight (schedule)');
    const Dt = s.gram.teacherDim ?? D;
    const gl =
      s.gram.loss === 'feature'
        ? g.scope('loss_feature', () => {
            const mean = g.input(I.featureMean, [Dt]); // (Dt)
            const proj = g.input(I.featureProjection, [Dt, D]); // (Dt, D)
            return featureDistilLoss(outG.patches, projectTokens(gramTeacher, mean, proj)); // targets (2B, N, D)
          })
        : g.scope('loss_gram', () => gramLoss(g, outG.patches, gramTeacher, { student: { h, w }, teacher: tg }));
    g.output(gl, O.gram);
    total = add(total, mul(gl, gramW));
  }
  g.output(dino, O.dino);
  g.output(ibot, O.ibot);
  g.output(koleo, O.koleo);
  g.output(total, O.total);

  // Parameter groups: backbone (layer-wise lr decay, patch-embed ×0.2, decay per paramSpecs), each head.
  const specs = paramSpecs(vit);
  const bbParams = specs.map((sp) => p.backbone[sp.name]);
  const headSpecs = headParamSpecs(s.head, D);
  const headParams = HEADS.map((hn) => headSpecs.map((sp) => p.heads[hn].byName[sp.name]));
  const all: Tensor[] = [...bbParams, ...headParams.flat()];
  const mixed = !!s.lowering?.mixedPrecision;
  const ls = mixed ? lossScaleInputs(g) : null;
  const grads = grad(total, all, ls ? [ls.scale] : undefined); // with loss scaling: gradients of S · loss
  const nb = bbParams.length;
  const nh = headSpecs.length;
  const o = s.optim;
  if (ls && !p.flat) throw new Error('buildStepGraph: mixed precision needs the flat parameter layout');
  const adam = (p.flat ? adamw : adamwPerTensor)(
    g,
    [
      {
        name: 'backbone',
        params: bbParams,
        grads: grads.slice(0, nb),
        lrMult: specs.map(
          (sp) => layerDecayMultiplier(sp, vit.depth, o.layerDecay) * (sp.name.includes('patch_embed') ? o.patchEmbedLrMult : 1),
        ),
        wdMult: specs.map((sp) => (sp.decay ? 1 : 0)),
        maxNorm: o.clipGrad,
        ...(p.flat ? { flat: p.flat.backbone } : {}),
      },
      ...HEADS.map((hn, k) => ({
        name: hn,
        params: headParams[k],
        grads: grads.slice(nb + k * nh, nb + (k + 1) * nh),
        // dinov2 gives the heads layer id depth + 1: lr multiplier 1.
        wdMult: headSpecs.map((sp) => (sp.decay ? 1 : 0)),
        lrScale: headSpecs.map((sp) => (sp.lastLayer ? gate : null)),
        maxNorm: o.clipGrad,
        ...(p.flat ? { flat: p.flat[hn] } : {}),
      })),
    ],
    { beta1: o.beta1, beta2: o.beta2, ...(ls ? { lossScale: ls.scale } : {}) },
  );
  const outputs = [O.dino, O.ibot, O.koleo, ...(s.gram ? [O.gram] : []), O.total, ...Object.values(STEP_GRAD_NORMS).map((k) => O[k])];
  if (!ls || !adam.finite) return { graph: g, opt: adam, outputs, ropeAug: rope, mixed: false };
  // The loss scale's state is part of the optimiser state (checkpointed and moved with the moments).
  const scaling = updateLossScale(g, ls, adam.finite, s.lossScale ?? LOSS_SCALE_DEFAULTS);
  const ampNames = Object.keys(scaling.initialState());
  const opt: AdamWStep = {
    ...adam,
    stateMap: { ...adam.stateMap, ...scaling.stateMap },
    stateNames: [...adam.stateNames, ...ampNames],
    initialState: () => ({ ...adam.initialState(), ...scaling.initialState() }),
    // Checkpoints keep the loss-scale state beside the per-tensor moments.
    perTensor: (state) => {
      const out = adam.perTensor(state);
      for (const k of ampNames) {
        const v = state.get(k);
        if (v) out.set(k, v);
      }
      return out;
    },
    fromPerTensor: (perTensor) => {
      const out = adam.fromPerTensor(perTensor);
      for (const k of ampNames) {
        const v = perTensor.get(k);
        if (v) out.set(k, v);
      }
      return out;
    },
  };
  return { graph: g, opt, outputs: [...outputs, O.skipped, O.lossScale], ropeAug: rope, mixed: true };
}

/** KoLeo averaged over groups of `size` consecutive samples of x (B, D) (a last partial group joins as is). */
function groupedKoleo(g: Graph, x: Tensor, size: number): Tensor {
  const B = x.shape[0];
  const parts: Tensor[] = [];
  for (let s = 0; s < B; s += size) {
    const e = Math.min(B, s + size);
    if (e - s >= 2) parts.push(koleoLoss(g, slice(x, [0], [s], [e]))); // (e − s, D)
  }
  return mul(
    parts.reduce((a, b) => add(a, b)),
    1 / parts.length,
  );
}

// The momentum teacher (recipe §3, §5): its forward on the 2 UNMASKED global crops → targets for the DINO
// loss (CLS, both crops) and the iBOT loss (patch tokens at the student's masked slots), with EMA centering
// or Sinkhorn-Knopp, plus the new centers and collapse signals; and the EMA update graph
//   θ_t ← m·θ_t + (1 − m)·θ_s,   m cosine 0.992 → 1 (schedule.ts).
// The teacher runs in eval mode: no masks, no RoPE augmentation, no gradient.
import { Graph } from '../graph/graph.js';
import { log, maximum, mul, neg } from '../graph/ops/elementwise.js';
import { reduceMean, reduceSum } from '../graph/ops/reduce.js';
import { gather, reshape } from '../graph/ops/shape.js';
import { ema } from '../graph/optim.js';
import { type HostTensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../model/config.js';
import { buildViT } from '../model/vit.js';
import { graphIO } from './graph-io.js';
import { type HeadConfig, dinoHead } from './heads.js';
import { centeredSoftmax, sinkhornKnopp, updateCenter } from './losses/targets.js';
import { type ParamLayout, declareFlat, declareModel, modelTensors } from './model.js';

export interface TeacherSpec {
  vit: ViTConfig;
  head: HeadConfig;
  batch: number;
  globalSize: number;
  maskSlots: number;
  centering: 'ema' | 'sinkhorn';
  centerMomentum: number;
  sinkhornIterations: number;
  /** How the graph takes the parameters (model.ts): flat buffers (default) or one input per tensor. */
  params?: ParamLayout;
  /** Also output the patch tokens (distillation's patch-similarity term). */
  patches?: boolean;
}

/** What the teacher graph is fed each step besides its parameters (B tiles, U mask slots, K prototypes). */
export interface TeacherFeeds {
  /** (2B, C, G, G) the unmasked global crops (C = the backbone's inChans). */
  global: HostTensor;
  /** (U,) the student's masked slots (flat indices into 2B·N) and their weights (0 on padding). */
  ibotIndices: HostTensor;
  ibotWeights: HostTensor;
  /** Scalar τ_t of this step. */
  temp: HostTensor;
  /** (1, K) the DINO and iBOT centres (EMA centering only). */
  centerDino?: HostTensor;
  centerIbot?: HostTensor;
}

export interface TeacherOutputs {
  /** (2B, K) crop order, and (U, K): the targets of the student step. */
  targetsDino: HostTensor;
  targetsIbot: HostTensor;
  /** (1, K) the centres after this step (EMA centering only). */
  nextCenterDino?: HostTensor;
  nextCenterIbot?: HostTensor;
  /** Scalar mean entropy (nats) of the DINO targets. */
  entropy: HostTensor;
  /** (2B, D) the teacher's backbone CLS (for the feature rank). */
  cls: HostTensor;
  /** (2B, N, D) its patch tokens (only from a graph built with `patches`). */
  patches?: HostTensor;
}

export const TEACHER_IO = graphIO<TeacherFeeds, TeacherOutputs>(
  {
    global: 'global',
    ibotIndices: 'ibot/indices',
    ibotWeights: 'ibot/weights',
    temp: 'teacher/temp',
    centerDino: 'center/dino',
    centerIbot: 'center/ibot',
  },
  {
    targetsDino: 'targets/dino',
    targetsIbot: 'targets/ibot',
    nextCenterDino: 'next/center/dino',
    nextCenterIbot: 'next/center/ibot',
    entropy: 'signals/entropy',
    cls: 'teacher/cls',
    patches: 'teacher/patches',
  },
);

/** The EMA graph's per-step input: the momentum m of θ_t ← m·θ_t + (1 − m)·θ_s (the student's values are fed by emaStudentInput). */
export const EMA_IO = graphIO<{ momentum: HostTensor }, Record<never, HostTensor>>({ momentum: 'ema/momentum' }, {});

/** The EMA graph's input of the student's value of parameter `name`. */
export const emaStudentInput = (name: string): string => `student/${name}`;

/** The plain backbone forward (buildBackboneGraph): images in, CLS and patch tokens out. */
export const BACKBONE_IO = graphIO<{ images: HostTensor }, { cls: HostTensor; patches: HostTensor }>(
  { images: 'images' },
  { cls: 'cls', patches: 'patches' },
);

/**
 * The teacher forward: targets for the student step, the next centres (EMA centering), the entropy signal and
 * the CLS (TEACHER_IO).
 */
export function buildTeacherGraph(s: TeacherSpec): Graph {
  const g = new Graph('teacher');
  const { vit, batch: B } = s;
  const { h, w } = patchGrid(vit, s.globalSize, s.globalSize);
  const N = h * w;
  const K = s.head.prototypes;
  const I = TEACHER_IO.inputs;
  const O = TEACHER_IO.outputs;
  const globals = g.input(I.global, [2 * B, vit.inChans, s.globalSize, s.globalSize]); // (2B, C, G, G)
  const idx = g.input(I.ibotIndices, [s.maskSlots], 'int64'); // (U,)
  const wts = g.input(I.ibotWeights, [s.maskSlots]); // (U,) > 0 on real slots
  const temp = g.input(I.temp, []); // τ_t
  const p = declareModel(g, vit, s.head, s.params);
  const out = buildViT(g, globals, vit, { params: p.backbone });
  const zDino = g.scope('dino_head', () => dinoHead(out.cls, s.head, p.heads.dino_head)); // (2B, K)
  const flat = reshape(out.patches, [2 * B * N, vit.dim]); // (2B·N, D)
  const zIbot = g.scope('ibot_head', () => dinoHead(gather(flat, idx, 0), s.head, p.heads.ibot_head)); // (U, K)
  let tDino, tIbot;
  if (s.centering === 'ema') {
    const cD = g.input(I.centerDino, [1, K]);
    const cI = g.input(I.centerIbot, [1, K]);
    tDino = centeredSoftmax(zDino, cD, temp);
    tIbot = centeredSoftmax(zIbot, cI, temp);
    g.output(updateCenter(zDino, cD, s.centerMomentum), O.nextCenterDino);
    g.output(updateCenter(zIbot, cI, s.centerMomentum, wts), O.nextCenterIbot);
  } else {
    tDino = g.scope('sk_dino', () => sinkhornKnopp(zDino, temp, s.sinkhornIterations));
    tIbot = g.scope('sk_ibot', () => sinkhornKnopp(zIbot, temp, s.sinkhornIterations, wts));
  }
  g.output(tDino, O.targetsDino);
  g.output(tIbot, O.targetsIbot);
  const ent = neg(reduceMean(reduceSum(mul(tDino, log(maximum(tDino, 1e-30))), [-1]))); // mean_b H(p_t[b])
  g.output(ent, O.entropy);
  g.output(out.cls, O.cls);
  if (s.patches) g.output(out.patches, O.patches);
  // Every parameter is a declared input; mask_token is unused by the teacher and stays so (its view is dropped).
  return g;
}

/**
 * The EMA graph: teacher parameters (state, the model's names: its flat buffers, or per tensor) ← EMA with the
 * student's values as inputs (emaStudentInput). On flat buffers it is three kernels a buffer.
 */
export function buildEmaGraph(
  vit: ViTConfig,
  head: HeadConfig,
  params: ParamLayout = 'flat',
): { graph: Graph; stateMap: Record<string, string> } {
  const g = new Graph('teacher_ema');
  const teacher =
    params === 'flat' ? Object.values(declareFlat(g, vit, head)).map((f) => f.buffer) : modelTensors(declareModel(g, vit, head, params));
  const student = teacher.map((t) => g.input(emaStudentInput(t.name), t.shape, t.dtype));
  const { stateMap } = ema(teacher, student, EMA_IO.inputs.momentum);
  return { graph: g, stateMap };
}

/**
 * A plain backbone forward (eval mode) on (batch, C, size, size) images, parameters fed by their canonical
 * names: outputs the CLS (batch, D) and the patch tokens (batch, N, D) (BACKBONE_IO). The Gram teacher (on the Gram crops)
 * and the health monitor (on the probe tiles) run it.
 */
export function buildBackboneGraph(vit: ViTConfig, batch: number, size: number): Graph {
  const g = new Graph('backbone');
  const images = g.input(BACKBONE_IO.inputs.images, [batch, vit.inChans, size, size]); // (b, C, S, S)
  const out = buildViT(g, images, vit);
  g.output(out.cls, BACKBONE_IO.outputs.cls);
  g.output(out.patches, BACKBONE_IO.outputs.patches);
  return g;
}

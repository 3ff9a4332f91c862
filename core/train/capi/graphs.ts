// CAPI's three graphs per step (capi/train_capi.py do_teacher, do_student, the EMA):
//   teacher  the EMA encoder on the full images → patch tokens → online clustering head → positionwise
//            Sinkhorn-Knopp assignments; the targets are the assignments at the predicted positions. The
//            clustering head's loss, backward and its own AdamW run here (a StepRunner holding the head).
//   student  the encoder on the visible patches (+ CLS and registers) → predictor queries the predicted
//            positions → student head → CE against the targets at τ 0.12; backward; AdamW on the encoder and
//            the predictor (no clipping, as the official run).
//   ema      teacher encoder ← m·teacher + (1 − m)·student (the backbone buffer only: the teacher uses no
//            predictor).
// Shapes are static: every image has the same numbers of visible (V) and predicted (P) patches.
import { grad } from '../../graph/autodiff.js';
import { Graph, type GraphLowering } from '../../graph/graph.js';
import { flatViews } from '../../graph/flat.js';
import { log, maximum, mul, neg } from '../../graph/ops/elementwise.js';
import { reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { concat, gather, reshape } from '../../graph/ops/shape.js';
import { type AdamWStep, adamw, ema } from '../../graph/optim.js';
import { type HostTensor, type Tensor } from '../../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../../model/config.js';
import { buildViT } from '../../model/vit.js';
import { graphIO } from '../graph-io.js';
import { ADAMW_INPUTS } from '../../graph/optim.js';
import { type ClusteringConfig, clusterCrossEntropy, onlineClustering } from './clustering.js';
import { type CapiMaskCounts } from './masking.js';
import {
  CLUSTERING_BIAS,
  CLUSTERING_WEIGHT,
  type CapiPart,
  PREDICTOR_SCOPE,
  capiFlatName,
  capiLayouts,
  capiLrMult,
  capiWdMult,
} from './model.js';
import { type PredictorConfig, predictor, predictorParamSpecs, studentHead } from './predictor.js';

export interface CapiSpec {
  vit: ViTConfig;
  predictor: PredictorConfig;
  clustering: ClusteringConfig;
  /** M images a step (the 2B global crops). */
  images: number;
  size: number;
  counts: CapiMaskCounts;
  studentTemp: number;
  optim: { beta1: number; beta2: number; patchEmbedLrMult: number; normWdMult: number };
  lowering?: GraphLowering;
}

export interface CapiStudentFeeds {
  /** (M, 3, S, S). */
  images: HostTensor;
  /** (M·V,) and (M·P,) int64 flat indices into M·N. */
  visible: HostTensor;
  predict: HostTensor;
  /** RoPE tables (M, 1, P, hd) and (M, 1, 1 + R + V, hd) (rope-coords.ts). */
  qCos: HostTensor;
  qSin: HostTensor;
  kCos: HostTensor;
  kSin: HostTensor;
  /** (M·P, K) the teacher's assignments at the predicted positions. */
  targets: HostTensor;
  lr: HostTensor;
  wd: HostTensor;
}

export const CAPI_STUDENT_IO = graphIO<CapiStudentFeeds, { loss: HostTensor }>(
  {
    images: 'images',
    visible: 'capi/visible',
    predict: 'capi/predict',
    qCos: 'capi/q_cos',
    qSin: 'capi/q_sin',
    kCos: 'capi/k_cos',
    kSin: 'capi/k_sin',
    targets: 'capi/targets',
    lr: ADAMW_INPUTS.lr,
    wd: ADAMW_INPUTS.wd,
  },
  { loss: 'loss/capi' },
);

export interface CapiTeacherFeeds {
  images: HostTensor;
  predict: HostTensor;
  /** The EMA teacher's encoder buffer: the trainer feeds the EMA runner's value where it lives instead. */
  backbone?: HostTensor;
  /** The clustering head's lr and weight decay of this step. */
  lr: HostTensor;
  wd: HostTensor;
}

export interface CapiTeacherOutputs {
  /** (M·P, K). */
  targets: HostTensor;
  /** The clustering head's loss (before its update). */
  clustering: HostTensor;
  /** Mean entropy (nats) of the targets (train_capi.py target_entropy). */
  entropy: HostTensor;
}

export const CAPI_TEACHER_IO = graphIO<CapiTeacherFeeds, CapiTeacherOutputs>(
  { images: 'images', predict: 'capi/predict', backbone: capiFlatName('backbone'), lr: ADAMW_INPUTS.lr, wd: ADAMW_INPUTS.wd },
  { targets: 'capi/targets', clustering: 'loss/clustering', entropy: 'signals/target_entropy' },
);

/** The EMA graph's input of the student's value of buffer `name`. */
export const capiEmaStudentInput = (name: string): string => `student/${name}`;
export const CAPI_EMA_MOMENTUM = 'ema/momentum';

/** A part's flat buffer as a graph parameter, and its tensors as views by name. */
function declarePart(g: Graph, part: CapiPart, spec: CapiSpec, asInput = false): { buffer: Tensor; views: Record<string, Tensor> } {
  const layout = capiLayouts(spec.vit, spec.predictor)[part];
  const buffer = asInput ? g.input(capiFlatName(part), [layout.size]) : g.param(capiFlatName(part), [layout.size]);
  const views: Record<string, Tensor> = {};
  g.scope(`params/${part}`, () => flatViews(buffer, layout)).forEach((v, i) => (views[layout.segments[i].name] = v));
  return { buffer, views };
}

/** The student step graph and its optimiser (state: flat/backbone, flat/predictor, their moments, step). */
export function buildCapiStudent(s: CapiSpec): { graph: Graph; opt: AdamWStep } {
  const g = new Graph('capi_student', s.lowering);
  const I = CAPI_STUDENT_IO.inputs;
  const M = s.images;
  const { visible: V, predict: P } = s.counts;
  const T = 1 + s.vit.registers + V;
  const hd = s.vit.dim / s.vit.heads;
  const K = s.predictor.prototypes;
  const images = g.input(I.images, [M, 3, s.size, s.size]);
  const visible = g.input(I.visible, [M * V], 'int64');
  g.input(I.predict, [M * P], 'int64', 'unused by the student: its queries carry the positions through RoPE');
  const tab = (name: string, n: number): Tensor => g.input(name, [M, 1, n, hd]);
  const [qCos, qSin, kCos, kSin] = [tab(I.qCos, P), tab(I.qSin, P), tab(I.kCos, T), tab(I.kSin, T)];
  const targets = g.input(I.targets, [M * P, K]);
  const bb = declarePart(g, 'backbone', s);
  const pr = declarePart(g, 'predictor', s);
  const enc = g.scope('encoder', () => buildViT(g, images, s.vit, { params: bb.views, visible }));
  const context = concat([reshape(enc.cls, [M, 1, s.vit.dim]), enc.registers, enc.patches], 1); // (M, T, D), normed
  const predParams: Record<string, Tensor> = {};
  for (const sp of predictorParamSpecs(s.predictor)) predParams[sp.name] = pr.views[PREDICTOR_SCOPE + sp.name];
  const out = g.scope('predictor', () => predictor(g, { context, queries: P, qCos, qSin, kCos, kSin }, s.predictor, predParams));
  const logits = g.scope('head', () => studentHead(reshape(out, [M * P, s.vit.dim]), predParams)); // (M·P, K)
  const loss = g.scope('loss', () => clusterCrossEntropy(logits, targets, s.studentTemp));
  g.output(loss, CAPI_STUDENT_IO.outputs.loss);
  const layouts = capiLayouts(s.vit, s.predictor);
  const parts = [
    { part: 'backbone' as const, decl: bb },
    { part: 'predictor' as const, decl: pr },
  ];
  const tensors = parts.map(({ part, decl }) => layouts[part].segments.map((seg) => decl.views[seg.name]));
  const grads = grad(loss, tensors.flat());
  let at = 0;
  const opt = adamw(
    g,
    parts.map(({ part, decl }, i) => {
      const names = layouts[part].segments.map((seg) => seg.name);
      const group = {
        name: part,
        params: tensors[i],
        grads: grads.slice(at, at + names.length),
        lrMult: names.map((n) => capiLrMult(n, s.optim.patchEmbedLrMult)),
        wdMult: names.map((n) => capiWdMult(n, s.optim.normWdMult)),
        flat: { buffer: decl.buffer, layout: layouts[part] },
      };
      at += names.length;
      return group;
    }),
    { beta1: s.optim.beta1, beta2: s.optim.beta2 },
  );
  return { graph: g, opt };
}

/** The teacher graph: targets, the clustering head's loss and its AdamW step (state: flat/clustering, moments, step). */
export function buildCapiTeacher(s: CapiSpec): { graph: Graph; opt: AdamWStep } {
  const g = new Graph('capi_teacher', s.lowering);
  const I = CAPI_TEACHER_IO.inputs;
  const O = CAPI_TEACHER_IO.outputs;
  const M = s.images;
  const P = s.counts.predict;
  const { h, w } = patchGrid(s.vit, s.size, s.size);
  const N = h * w;
  const K = s.predictor.prototypes;
  const images = g.input(I.images, [M, 3, s.size, s.size]);
  const predict = g.input(I.predict, [M * P], 'int64');
  const bb = declarePart(g, 'backbone', s, true);
  const cl = declarePart(g, 'clustering', s);
  const enc = g.scope('encoder', () => buildViT(g, images, s.vit, { params: bb.views }));
  const head = g.scope('clustering', () =>
    onlineClustering(enc.patches, cl.views[CLUSTERING_WEIGHT], cl.views[CLUSTERING_BIAS], s.clustering),
  );
  const targets = gather(reshape(head.assignments, [M * N, K]), predict, 0); // (M·P, K)
  g.output(targets, O.targets);
  g.output(head.loss, O.clustering);
  g.output(neg(reduceMean(reduceSum(mul(targets, log(maximum(targets, 1e-30))), [-1]))), O.entropy);
  const layout = capiLayouts(s.vit, s.predictor).clustering;
  const params = layout.segments.map((seg) => cl.views[seg.name]);
  const opt = adamw(
    g,
    [
      {
        name: 'clustering',
        params,
        grads: grad(head.loss, params),
        wdMult: layout.segments.map((seg) => capiWdMult(seg.name, 1)),
        flat: { buffer: cl.buffer, layout },
      },
    ],
    { beta1: s.optim.beta1, beta2: s.optim.beta2 },
  );
  return { graph: g, opt };
}

/** The EMA graph of the encoder's buffer. */
export function buildCapiEma(vit: ViTConfig, pred: PredictorConfig): { graph: Graph; stateMap: Record<string, string> } {
  const g = new Graph('capi_ema');
  const size = capiLayouts(vit, pred).backbone.size;
  const teacher = g.param(capiFlatName('backbone'), [size]);
  const student = g.input(capiEmaStudentInput(teacher.name), [size]);
  const { stateMap } = ema([teacher], [student], CAPI_EMA_MOMENTUM);
  return { graph: g, stateMap };
}

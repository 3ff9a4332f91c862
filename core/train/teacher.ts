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
import { type ViTConfig, patchGrid } from '../model/config.js';
import { buildViT } from '../model/vit.js';
import { type HeadConfig, dinoHead } from './heads.js';
import { centeredSoftmax, sinkhornKnopp, updateCenter } from './losses/targets.js';
import { declareModel, modelTensors } from './model.js';

export interface TeacherSpec {
  vit: ViTConfig;
  head: HeadConfig;
  batch: number;
  globalSize: number;
  maskSlots: number;
  centering: 'ema' | 'sinkhorn';
  centerMomentum: number;
  sinkhornIterations: number;
}

export const TEACHER_INPUTS = {
  global: 'global',
  ibotIndices: 'ibot/indices',
  ibotWeights: 'ibot/weights',
  temp: 'teacher/temp',
  centerDino: 'center/dino',
  centerIbot: 'center/ibot',
} as const;

/**
 * Outputs: 'targets/dino' (2B, K) crop order, 'targets/ibot' (U, K), with EMA centering 'next/center/dino'
 * and 'next/center/ibot' (1, K); signals 'signals/entropy' (mean entropy of the DINO targets, nats) and
 * 'teacher/cls' (2B, D) (for the feature rank).
 */
export function buildTeacherGraph(s: TeacherSpec): Graph {
  const g = new Graph('teacher');
  const { vit, batch: B } = s;
  const { h, w } = patchGrid(vit, s.globalSize, s.globalSize);
  const N = h * w;
  const K = s.head.prototypes;
  const I = TEACHER_INPUTS;
  const globals = g.input(I.global, [2 * B, 3, s.globalSize, s.globalSize]); // (2B, 3, G, G)
  const idx = g.input(I.ibotIndices, [s.maskSlots], 'int64'); // (U,)
  const wts = g.input(I.ibotWeights, [s.maskSlots]); // (U,) > 0 on real slots
  const temp = g.input(I.temp, []); // τ_t
  const p = declareModel(g, vit, s.head);
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
    g.output(updateCenter(zDino, cD, s.centerMomentum), 'next/center/dino');
    g.output(updateCenter(zIbot, cI, s.centerMomentum, wts), 'next/center/ibot');
  } else {
    tDino = g.scope('sk_dino', () => sinkhornKnopp(zDino, temp, s.sinkhornIterations));
    tIbot = g.scope('sk_ibot', () => sinkhornKnopp(zIbot, temp, s.sinkhornIterations, wts));
  }
  g.output(tDino, 'targets/dino');
  g.output(tIbot, 'targets/ibot');
  const ent = neg(reduceMean(reduceSum(mul(tDino, log(maximum(tDino, 1e-30))), [-1]))); // mean_b H(p_t[b])
  g.output(ent, 'signals/entropy');
  g.output(out.cls, 'teacher/cls');
  // Every parameter is a declared input; mask_token is unused by the teacher and stays so.
  void modelTensors(p);
  return g;
}

/** The EMA graph: teacher parameters (state, the model's names) ← EMA with 'student/<name>' inputs. */
export function buildEmaGraph(vit: ViTConfig, head: HeadConfig): { graph: Graph; stateMap: Record<string, string> } {
  const g = new Graph('teacher_ema');
  const teacher = modelTensors(declareModel(g, vit, head));
  const student = teacher.map((t) => g.input(`student/${t.name}`, t.shape, t.dtype));
  const { stateMap } = ema(teacher, student);
  return { graph: g, stateMap };
}

/**
 * A plain backbone forward (eval mode) on (batch, 3, size, size) images 'images', parameters fed by their
 * canonical names: outputs 'cls' (batch, D) and 'patches' (batch, N, D). The Gram teacher (on the Gram crops)
 * and the health monitor (on the probe tiles) run it.
 */
export function buildBackboneGraph(vit: ViTConfig, batch: number, size: number): Graph {
  const g = new Graph('backbone');
  const images = g.input('images', [batch, 3, size, size]); // (b, 3, S, S)
  const out = buildViT(g, images, vit);
  g.output(out.cls, 'cls');
  g.output(out.patches, 'patches');
  return g;
}

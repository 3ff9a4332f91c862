// Training schedules as pure functions of the step (recipe §5; dinov2/train/train.py build_schedulers and
// dinov2/utils/utils.py CosineScheduler). Deviation: the reference counts epochs of a fixed dataset; a tile
// stream has none, so every length here is in steps (presets derive them from the run length).
//
// CosineScheduler(base, final, total, warmup, start, freeze) at iteration it:
//   it < freeze:                    0
//   freeze ≤ it < freeze + warmup:  linspace(start, base, warmup)[it − freeze]       (endpoints included)
//   then, j = it − freeze − warmup, n = total − freeze − warmup:
//                                   final + ½(base − final)(1 + cos(π j / n))
//   it ≥ total:                     final
import { type TrainConfig } from './config.js';

export interface CosineSchedule {
  base: number;
  final: number;
  total: number;
  warmup?: number;
  start?: number;
  freeze?: number;
}

/** dinov2's CosineScheduler value at iteration `it`. */
export function cosineAt(s: CosineSchedule, it: number): number {
  const warmup = s.warmup ?? 0;
  const freeze = s.freeze ?? 0;
  const start = s.start ?? 0;
  if (it >= s.total) return s.final;
  if (it < freeze) return 0;
  if (it < freeze + warmup) {
    const i = it - freeze;
    return warmup === 1 ? start : start + ((s.base - start) * i) / (warmup - 1); // np.linspace
  }
  const n = s.total - freeze - warmup;
  const j = it - freeze - warmup;
  return s.final + 0.5 * (s.base - s.final) * (1 + Math.cos((Math.PI * j) / n));
}

/** lr = base · sqrt(B / 1024) (DINOv2's square-root batch scaling; DINOv3 multiplies base by 4 on top). */
export function scaledLr(baseLr: number, batchSize: number): number {
  return baseLr * Math.sqrt(batchSize / 1024);
}

export interface StepValues {
  lr: number;
  /** lr of the heads' last layers: 0 while frozen, then the lr. */
  lastLayerLr: number;
  wd: number;
  teacherTemp: number;
  momentum: number;
}

/**
 * m₀ of the teacher's cosine momentum schedule. The reference's 0.992 is an EMA horizon 1/(1 − m) of 125
 * iterations: 0.1 % of its 125k-iteration run. Over a short run the cosine to 1 leaves the teacher mostly
 * its random init (Σ(1 − m_t) ≈ T(1 − m₀)/2: 0.4 over 100 steps, so 67 % of the teacher is still the init's)
 * and its DINO targets those of a random network. With `teacher.momentumHorizon` f > 0 the horizon is at
 * most f·T: m₀ = min(momentum, 1 − 1/(f·T)) (f 0.1: 100 steps → 0.9, 1000 → 0.99, ≥ 1250 → 0.992).
 */
export function startMomentum(c: TrainConfig): number {
  const f = c.teacher.momentumHorizon;
  return f > 0 ? Math.min(c.teacher.momentum, Math.max(0, 1 - 1 / (f * c.steps))) : c.teacher.momentum;
}

/** Every scheduled value at `step` (0-based: the step about to run). */
export function scheduleAt(c: TrainConfig, step: number): StepValues {
  const T = c.steps;
  const o = c.optim;
  const lrPeak = scaledLr(o.baseLr, c.batchSize);
  const warmup = Math.min(T, Math.round(o.warmupFraction * T));
  const lr = cosineAt({ base: lrPeak, final: o.minLr, total: T, warmup, start: 0 }, step);
  const freeze = Math.round(o.freezeLastLayerFraction * T);
  const lastLayerLr = step < freeze ? 0 : lr; // dinov2: last_layer_lr_schedule.schedule[:freeze] = 0
  const wd = cosineAt({ base: o.weightDecay, final: o.weightDecayEnd, total: T }, step);
  const tw = Math.round(c.teacher.tempWarmupFraction * T);
  // teacher temp: CosineScheduler(base = final = τ, total = warmup = tw, start = τ0) → linear τ0 → τ, then τ.
  const teacherTemp = cosineAt({ base: c.teacher.temp, final: c.teacher.temp, total: tw, warmup: tw, start: c.teacher.tempStart }, step);
  const momentum = cosineAt({ base: startMomentum(c), final: 1, total: T }, step);
  return { lr, lastLayerLr, wd, teacherTemp, momentum };
}

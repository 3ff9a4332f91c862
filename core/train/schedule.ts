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
  const momentum = cosineAt({ base: c.teacher.momentum, final: 1, total: T }, step);
  return { lr, lastLayerLr, wd, teacherTemp, momentum };
}

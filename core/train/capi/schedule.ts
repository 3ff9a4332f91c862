// CAPI's schedules (capi/utils.py WarmupThenCosine, train_capi.py): a linear warm-up from `start` to `base`
// over the first warmupFraction of the run, then a cosine towards `final` truncated at truncateCos of its
// period (0.8: the lr stops above 0). The student lr (optim.baseLr, not scaled by the batch), the
// clustering head's lr (capi.clusteringLr) and the teacher momentum (1 → m₀ over the warm-up, then → 1)
// share the shape; weight decay is constant (optim.weightDecay). Steps, not iterations of a 500k run.
import { type TrainConfig } from '../config.js';
import { startMomentum } from '../schedule.js';

export interface CapiStepValues {
  lr: number;
  wd: number;
  clusteringLr: number;
  momentum: number;
}

/** WarmupThenCosine at step `it` of `total`. */
export function warmupThenCosine(
  s: { base: number; final: number; total: number; warmup: number; start: number; truncate: number },
  it: number,
): number {
  if (it >= s.total) return s.final;
  if (it < s.warmup) return s.warmup === 1 ? s.start : s.start + ((s.base - s.start) * it) / (s.warmup - 1); // np.linspace
  const n = s.total - s.warmup;
  const i = it - s.warmup;
  return s.final + 0.5 * (s.base - s.final) * (1 + Math.cos((Math.PI * s.truncate * i) / n));
}

export function capiScheduleAt(c: TrainConfig, it: number): CapiStepValues {
  const total = c.steps;
  const warmup = Math.min(total, Math.round(c.optim.warmupFraction * total));
  const shape = { total, warmup, truncate: c.capi.truncateCos };
  return {
    lr: warmupThenCosine({ ...shape, base: c.optim.baseLr, final: c.optim.minLr, start: 0 }, it),
    wd: c.optim.weightDecay,
    clusteringLr: warmupThenCosine({ ...shape, base: c.capi.clusteringLr, final: 0, start: 0 }, it),
    // momentum_schedule: start_warmup_value 1, base m₀ (the short-run horizon applies, schedule.ts), final 1.
    momentum: warmupThenCosine({ ...shape, base: startMomentum(c), final: 1, start: 1 }, it),
  };
}

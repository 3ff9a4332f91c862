// CAPI's schedules (capi/utils.py WarmupThenCosine, train_capi.py): a linear warm-up from `start` to `base`
// over the first warmupFraction of the run, then a cosine towards `final` truncated at truncateCos of its
// period (0.8: the lr stops above 0). The student lr (optim.baseLr, not scaled by the batch), the
// clustering head's lr (capi.clusteringLr) and the teacher momentum (1 → m₀ over the warm-up, then → 1)
// share the shape; weight decay is constant (optim.weightDecay). Steps, not iterations of a 500k run.
import { type TrainConfig } from '../config.js';
import { startMomentum } from '../schedule.js';
import { extensionRamp, plannedAt } from '../schedule-plan.js';

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

/**
 * CAPI's values at `step` through the run's re-plans (schedule-plan.ts): a minutes budget re-times the plan;
 * an extension follows the plan over the new total, joined by a linear ramp (the warm-up fraction of the
 * added steps) from the values the run stopped at, so the lr, the clustering head's lr and the momentum do
 * not jump (no second warm-up from 0).
 */
export function plannedCapiScheduleAt(c: TrainConfig, step: number): CapiStepValues {
  if (!c.replans.length) return capiScheduleAt(c, step);
  const plain =
    (total: number) =>
    (u: number): CapiStepValues =>
      capiScheduleAt({ ...c, steps: total }, u);
  return plannedAt(c, step, {
    plain,
    joined: (total, a, join) => {
      const next = plain(total);
      const ramp = extensionRamp(c, total, a);
      return (u) => {
        const v = next(u);
        const f = Math.min(1, Math.max(0, (u - a) / ramp));
        const mix = (x: number, y: number): number => x + f * (y - x);
        return {
          lr: mix(join.lr, v.lr),
          wd: mix(join.wd, v.wd),
          clusteringLr: mix(join.clusteringLr, v.clusteringLr),
          momentum: mix(join.momentum, v.momentum),
        };
      };
    },
  });
}

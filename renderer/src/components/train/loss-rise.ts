// The end-of-run loss rise of short runs, recognised so the live view can say what it is
// (core/train/README.md, "Short runs"): when the teacher stops moving late in a run (its EMA momentum → 1
// while the learning rate → 0), the EMA centre subtracted from its outputs catches up with it, the targets
// flatten and the loss climbs back towards ln K. Not lost learning: the targets carry as much information.
import type { TrainStepInfo } from '../../../../core/common/api.js';

export interface LossRise {
  /** The lowest smoothed (trailing median) total loss, and its step. */
  low: number;
  lowStep: number;
  /** The smoothed total loss now. */
  now: number;
}

/** Share of the run after which a rise counts as end-of-run, and where its low may be at the earliest. */
const LATE = 0.7;
const LOW_FROM = 0.4;

/** The rise when the run is in its last part and its smoothed total loss is clearly above its low since
 * mid-run; null otherwise (and for runs too short to tell). */
export function endOfRunRise(steps: readonly TrainStepInfo[], total: number): LossRise | null {
  if (steps.length < 10 || !(total > 0)) return null;
  const last = steps[steps.length - 1];
  if (last.step < LATE * total) return null;
  // Trailing median over ~5 % of the steps (3 to 25): a single noisy step is no rise.
  const w = Math.min(25, Math.max(3, Math.round(steps.length * 0.05)));
  // One scratch window, sorted by insertion (w ≤ 25): no allocation per step, as this runs on every live event.
  const smooth = new Float64Array(steps.length);
  const win = new Float64Array(w);
  for (let i = 0; i < steps.length; i++) {
    const from = Math.max(0, i - w + 1);
    let m = 0;
    for (let j = from; j <= i; j++) {
      const v = steps[j].losses.total;
      let k = m++;
      while (k > 0 && !(win[k - 1] <= v)) {
        win[k] = win[k - 1];
        k--;
      }
      win[k] = v;
    }
    smooth[i] = win[m >> 1];
  }
  if (!smooth.every(Number.isFinite)) return null;
  let lowAt = -1;
  for (let i = w - 1; i < steps.length; i++) if (steps[i].step >= LOW_FROM * total && (lowAt < 0 || smooth[i] < smooth[lowAt])) lowAt = i;
  if (lowAt < 0) return null;
  const low = smooth[lowAt];
  const now = smooth[smooth.length - 1];
  const rose = now - low > Math.max(0.05 * Math.abs(low), 0.05);
  return rose && lowAt < steps.length - 1 ? { low, lowStep: steps[lowAt].step, now } : null;
}

// The steps of the run on screen, bounded: the recorded history (sent thinned by the host) followed by the
// live steps, thinned again (core/common/thin-steps.ts) whenever the list reaches its limit, so the panel's
// work per live event stays the same whether the run has made a hundred steps or a hundred thousand.
import type { TrainStepInfo } from '../../../../core/common/api.js';
import { thinSteps } from '../../../../core/common/thin-steps.js';

/** Steps of a run's history asked of the host: twice the charts' 1000 points a curve. */
export const HISTORY_STEPS = 2000;
/** The list's limit; reaching it thins the list back to HISTORY_STEPS (every HISTORY_STEPS live steps). */
export const MAX_STEPS = 2 * HISTORY_STEPS;

export class StepBuffer {
  private buf: TrainStepInfo[] = [];

  get length(): number {
    return this.buf.length;
  }

  /** A copy, in step order. */
  snapshot(): TrainStepInfo[] {
    return this.buf.slice();
  }

  clear(): void {
    this.buf = [];
  }

  /** Appends a step; a step at or before the last one (a resume from a checkpoint) replaces the tail. */
  push(s: TrainStepInfo): void {
    const last = this.buf[this.buf.length - 1];
    if (last && s.step <= last.step) {
      let cut = this.buf.length;
      while (cut > 0 && this.buf[cut - 1].step >= s.step) cut--;
      this.buf.length = cut;
    }
    this.buf.push(s);
    if (this.buf.length >= MAX_STEPS) this.buf = thinSteps(this.buf, HISTORY_STEPS);
  }

  /** Replaces the list with a run's recorded `history`, followed by the live steps held now that are newer
   * (they arrived while the history loaded; or, after a resume, they replace its tail). */
  load(history: readonly TrainStepInfo[]): void {
    const end = history[history.length - 1]?.step ?? 0;
    const live = this.buf.filter((s) => s.step > end);
    this.buf = [];
    for (const s of thinSteps(history, HISTORY_STEPS)) this.push(s);
    for (const s of live) this.push(s);
  }
}

// A minutes budget (`--minutes`, the Train panel's time budget) in steps. The schedules count steps, so the
// run needs a step count; the machine's speed changes under other work (a shared machine, the app's own
// previews and checkpoints), so a count fixed from the first steps missed its budget by minutes. Instead the
// count is estimated after the first timed steps and re-estimated as the run goes, from a moving average of
// whole iterations (the step, its record, the job host's hooks, checkpoints: everything the budget pays for);
// schedule-plan.ts re-times the schedules over each new count without a jump. The budget counts from the
// start of the first step (start-up — loading images, building graphs — comes on top, as in the Train
// panel's estimate, core/train/host/timing.ts).

import { MAX_TRAIN_MINUTES, MAX_TRAIN_STEPS } from '../common/api-schema.js';
import { FieldError } from '../common/errors.js';

/** The largest budgets taken: a week of minutes, ten million steps (beyond them a typo is likelier). */

/** BAD_INPUT unless `steps` / `minutes` (either may be absent, not both given) are a usable budget; `flag`
 * names them as the caller's user knows them (CLI flags by default). */
export function checkBudget(steps: unknown, minutes: unknown): void {
  const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  if (steps !== undefined && minutes !== undefined) throw new FieldError('minutes', 'give either {steps} or {minutes}, not both.');
  if (steps !== undefined && !(typeof steps === 'number' && Number.isInteger(steps) && steps > 0 && steps <= MAX_TRAIN_STEPS))
    throw new FieldError('steps', `must be a whole number from 1 to ${MAX_TRAIN_STEPS}, got ${shown(steps)}.`);
  if (minutes !== undefined && !(typeof minutes === 'number' && minutes > 0 && minutes <= MAX_TRAIN_MINUTES))
    throw new FieldError('minutes', `must be more than 0 and at most ${MAX_TRAIN_MINUTES} (a week), got ${shown(minutes)}.`);
}

/** Iterations timed before the first estimate; the first of a process is a warm-up (graph compilation) and
 * is not counted. */
export const TIMED_STEPS = 3;
/** Iterations in the moving average: recent enough to follow a change of load within a few steps. */
const WINDOW = 8;
/** A re-plan needs the count to move by 2 % of the steps left (at least 1) … */
const MIN_CHANGE = 0.02;
/** … and at most one per 2 % of the budget: a run re-plans at most ~50 times (they are kept in its config). */
const MIN_INTERVAL = 0.02;

export class TimeBudget {
  private readonly times: number[] = [];
  private lastReplanAt = -Infinity;

  /** `seconds`: the budget, from the start of the first iteration. */
  constructor(readonly seconds: number) {}

  /** One iteration's wall time in seconds (in order). */
  record(seconds: number): void {
    this.times.push(seconds);
  }

  /** Iterations recorded so far. */
  get iterations(): number {
    return this.times.length;
  }

  /** Seconds per step now: the mean of the last WINDOW iterations (the first left out); NaN before two. */
  secondsPerStep(): number {
    const timed = this.times.slice(1).slice(-WINDOW);
    return timed.length ? timed.reduce((a, b) => a + b, 0) / timed.length : NaN;
  }

  /**
   * The run's new total after `step` steps and `elapsed` seconds of the budget, or null to keep `total`.
   * `step` itself when the time is up. Before TIMED_STEPS iterations only a spent budget answers.
   */
  plan(step: number, total: number, elapsed: number): number | null {
    const left = this.seconds - elapsed;
    if (this.times.length < TIMED_STEPS) return left <= 0 && total > step ? step : null;
    const sps = Math.max(this.secondsPerStep(), 1e-6);
    const want = step + Math.max(0, Math.floor(left / sps));
    if (want === total) return null;
    const first = this.lastReplanAt === -Infinity;
    // Ending now, or after the next step: always re-planned, so the last step is known as the last before it
    // runs (its health measurement and preview are taken then).
    const ending = want <= step + 1;
    const moved = Math.abs(want - total) >= Math.max(1, Math.ceil(MIN_CHANGE * Math.max(0, total - step)));
    const due = elapsed - this.lastReplanAt >= MIN_INTERVAL * this.seconds;
    if (!(first || ending || (moved && due))) return null;
    this.lastReplanAt = elapsed;
    return want;
  }
}

/** Steps of `secondsPerStep` that fit in `minutes` (at least 1): the first guess of an extension's count. */
export function stepsInMinutes(minutes: number, secondsPerStep: number): number {
  return Math.max(1, Math.floor((minutes * 60) / Math.max(secondsPerStep, 1e-6)));
}

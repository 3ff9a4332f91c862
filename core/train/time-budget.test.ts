// TimeBudget's decisions on a simulated clock (the run loop's arithmetic without the machine's noise): the
// step count follows step times that change mid-run, the run ends within a step of its budget, re-plans stay
// few; and the budget check's plain messages.
import { describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { TimeBudget, checkBudget, stepsInMinutes } from './time-budget.js';

/** Runs the loop of run.ts on step times `stepTime(step, elapsed)`; returns the seconds used, steps and re-plans. */
function simulate(
  seconds: number,
  stepTime: (step: number, elapsed: number) => number,
  initial = 1000,
): { elapsed: number; steps: number; replans: number; maxStep: number } {
  const budget = new TimeBudget(seconds);
  let total = initial;
  let elapsed = 0;
  let replans = 0;
  let maxStep = 0;
  for (let step = 0; step < total;) {
    const t = stepTime(step, elapsed);
    maxStep = Math.max(maxStep, t);
    elapsed += t;
    step++;
    budget.record(t);
    const to = budget.plan(step, total, elapsed);
    if (to !== null) {
      total = to;
      replans++;
    }
    if (step > 1e6) throw new Error('runaway');
  }
  return { elapsed, steps: total, replans, maxStep };
}

describe('TimeBudget', () => {
  it('ends within a step of the budget when the step time changes mid-run, either way', () => {
    const B = 600;
    const cases: [string, (s: number, e: number) => number][] = [
      ['steady', () => 0.5],
      ['4× slower for the middle third', (_, e) => (e > B / 3 && e < (2 * B) / 3 ? 2 : 0.5)],
      ['4× faster after a third', (_, e) => (e > B / 3 ? 0.5 : 2)],
      ['slow first step (graph compilation), then noisy', (s) => (s === 0 ? 20 : 0.5 + 0.4 * Math.sin(s * 1.7))],
      ['slower and slower', (s) => 0.2 + s * 0.002],
    ];
    for (const [what, f] of cases) {
      const r = simulate(B, f);
      expect(r.elapsed, what).toBeLessThanOrEqual(B + r.maxStep);
      expect(r.elapsed, what).toBeGreaterThanOrEqual(B - 2 * r.maxStep - 0.02 * B);
      expect(r.replans, what).toBeLessThanOrEqual(60);
    }
  });

  it('a budget spent before the first estimate stops at once; the first estimate comes after 3 steps', () => {
    expect(simulate(1, () => 5).steps).toBe(1);
    const b = new TimeBudget(100);
    b.record(10);
    expect(b.plan(1, 1000, 10)).toBeNull();
    b.record(1);
    expect(b.plan(2, 1000, 11)).toBeNull();
    b.record(1);
    expect(b.plan(3, 1000, 12)).toBe(3 + 88); // (100 − 12) s at 1 s a step; the 10 s warm-up not counted
    expect(stepsInMinutes(1, 0.5)).toBe(120);
    expect(stepsInMinutes(0.001, 60)).toBe(1);
  });

  it('budgets are checked with plain messages', () => {
    const msg = (f: () => void): string => {
      try {
        f();
      } catch (e) {
        return e instanceof DinoscopeError && e.code === 'BAD_INPUT' ? e.message : String(e);
      }
      return 'accepted';
    };
    expect(msg(() => checkBudget(10, undefined))).toBe('accepted');
    expect(msg(() => checkBudget(undefined, 0.5))).toBe('accepted');
    expect(msg(() => checkBudget(2, 3))).toBe('minutes: give either steps or minutes, not both.');
    expect(msg(() => checkBudget(0, undefined))).toBe('steps: must be a whole number from 1 to 10000000, got 0.');
    expect(msg(() => checkBudget(undefined, 1e6))).toBe('minutes: must be more than 0 and at most 10080 (a week), got 1000000.');
    expect(msg(() => checkBudget(undefined, NaN))).toBe('minutes: must be more than 0 and at most 10080 (a week), got NaN.');
  });
});

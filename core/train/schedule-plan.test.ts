// Re-planned schedules: a re-timed budget and an extension keep every value continuous, reach the final
// values on the new last step, and a run without re-plans is exactly schedule.ts.
import { describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { type TrainConfig, trainConfig } from './config.js';
import { scaledLr, scheduleAt, type StepValues } from './schedule.js';
import { plannedScheduleAt, replanned } from './schedule-plan.js';

const KEYS = ['lr', 'lastLayerLr', 'wd', 'teacherTemp', 'momentum'] as const;

/** The largest step-to-step change of each value over steps [a, b). */
function maxStep(c: TrainConfig, a: number, b: number): Record<(typeof KEYS)[number], number> {
  const out = { lr: 0, lastLayerLr: 0, wd: 0, teacherTemp: 0, momentum: 0 };
  let prev = plannedScheduleAt(c, a);
  for (let s = a + 1; s < b; s++) {
    const v = plannedScheduleAt(c, s);
    for (const k of KEYS) out[k] = Math.max(out[k], Math.abs(v[k] - prev[k]));
    prev = v;
  }
  return out;
}

describe('re-planned schedules', () => {
  const c0 = trainConfig('standard', { steps: 1000, batchSize: 64 }); // recipe schedules: every value moves
  const peak = scaledLr(0.004, 64);

  it('no re-plans: exactly the fixed plan', () => {
    for (const s of [0, 5, 99, 300, 999, 1000]) expect(plannedScheduleAt(c0, s)).toEqual(scheduleAt(c0, s));
  });

  it('a budget re-plan re-times the rest of the plan: same values up to the change, no jump, final values on the new last step', () => {
    for (const to of [600, 1700]) {
      const c = replanned(c0, 400, to, 'budget');
      expect(c.steps).toBe(to);
      expect(c0.steps).toBe(1000); // not changed in place
      for (const s of [0, 150, 399, 400]) expect(plannedScheduleAt(c, s)).toEqual(scheduleAt(c0, s));
      // the rest of the plan (virtual steps 400…1000) spread over the real steps 400…to
      const u = (s: number): number => 400 + ((s - 400) * 600) / (to - 400);
      for (const s of [401, 500, to - 1]) {
        const want = scheduleAt(c0, u(s));
        for (const k of KEYS) expect(plannedScheduleAt(c, s)[k]).toBeCloseTo(want[k], 12);
      }
      expect(plannedScheduleAt(c, to)).toEqual(scheduleAt(c0, 1000)); // the final values
      // no step changes a value more than the steeper of the two timings does
      const scale = Math.max(1, 600 / (to - 400));
      const before = maxStep(c0, 0, 1000);
      const after = maxStep(c, 0, to + 1);
      for (const k of KEYS) expect(after[k]).toBeLessThanOrEqual(before[k] * scale * 1.001 + 1e-15);
    }
  });

  it('several budget re-plans compose; the time-up stop keeps the values where the run was', () => {
    let c = replanned(c0, 100, 800, 'budget');
    c = replanned(c, 300, 1200, 'budget');
    c = replanned(c, 700, 700, 'budget'); // time up at step 700
    expect(c.replans.map((r) => [r.step, r.from, r.to])).toEqual([
      [100, 1000, 800],
      [300, 800, 1200],
      [700, 1200, 700],
    ]);
    const jumps = maxStep(c, 0, 700);
    const fixed = maxStep(c0, 0, 1000);
    for (const k of KEYS) expect(jumps[k]).toBeLessThanOrEqual(fixed[k] * 1.5 + 1e-15);
    expect(plannedScheduleAt(c, 700).lr).toBeGreaterThan(1e-6); // not forced to the final value
    const c2 = replanned(c0, 100, 800, 'budget');
    const c3 = replanned(c2, 300, 1200, 'budget');
    expect(plannedScheduleAt(c, 650)).toEqual(plannedScheduleAt(c3, 650));
  });

  it('extending a finished run: continuous at the join, no second warm-up, final values at old + N', () => {
    const N = 500;
    const c = replanned(c0, 1000, 1000 + N, 'extend');
    const end = scheduleAt(c0, 1000); // where the finished run stands: lr at its minimum, momentum 1, τ_t 0.07
    expect(plannedScheduleAt(c, 1000)).toEqual(end); // the join: the old plan's value at this step
    for (let s = 0; s < 1000; s += 37) expect(plannedScheduleAt(c, s)).toEqual(scheduleAt(c0, s)); // the past is unchanged
    const ramp = Math.round(0.1 * N);
    const over = scheduleAt({ ...c0, steps: 1500 }, 1000 + ramp); // the plan over the new total, where the ramp meets it
    const v = plannedScheduleAt(c, 1000 + ramp);
    for (const k of ['lr', 'wd', 'momentum'] as const) expect(v[k]).toBeCloseTo(over[k], 12);
    expect(v.lr).toBeGreaterThan(peak * 0.2); // the re-planned cosine tail (70 % of the new total) trains again …
    const jumps = maxStep(c, 995, 1500);
    expect(jumps.lr).toBeLessThanOrEqual(peak / ramp); // … reached by a ramp, not a jump
    expect(jumps.momentum).toBeLessThanOrEqual(0.008 / ramp + 1e-12);
    for (let s = 1000; s <= 1500; s += 25) expect(plannedScheduleAt(c, s).teacherTemp).toBe(0.07); // no new τ_t warm-up
    for (let s = 1000; s < 1500; s += 25) expect(plannedScheduleAt(c, s).lastLayerLr).toBe(plannedScheduleAt(c, s).lr); // no new freeze
    const last: StepValues = plannedScheduleAt(c, 1500);
    expect(last).toEqual(end); // final values on the new last step
    expect(plannedScheduleAt(c, 1499).lr).toBeLessThan(2e-6); // the cosine has reached its minimum (1e-6)
  });

  it('extending a stopped run joins the values it stopped at', () => {
    const c = replanned(c0, 250, 1300, 'extend');
    expect(plannedScheduleAt(c, 250)).toEqual(scheduleAt(c0, 250));
    const jumps = maxStep(c, 240, 1300);
    expect(jumps.lr).toBeLessThanOrEqual(peak / Math.round(0.1 * 1050) + 1e-12);
    expect(plannedScheduleAt(c, 1300).lr).toBeCloseTo(1e-6, 15);
  });

  it('the strict config checks re-plans (they must chain and end at steps)', () => {
    const good = replanned(c0, 10, 20, 'budget');
    expect(trainConfig('standard', { steps: 20, replans: good.replans }).replans).toEqual(good.replans);
    const bad = (replans: unknown, steps = 20): unknown => {
      try {
        trainConfig('standard', { steps, replans } as Record<string, unknown>);
      } catch (e) {
        return e instanceof DinoscopeError && e.code === 'BAD_INPUT' ? e.message : e;
      }
      return 'accepted';
    };
    expect(bad([{ step: 10, from: 1000, to: 30, kind: 'budget' }])).toMatch(/ends at 30 steps, not at steps \(20\)/);
    expect(bad([{ step: 10, from: 1000, to: 20, kind: 'stretch' }])).toMatch(/replans\[0\] must be/);
    expect(
      bad([
        { step: 10, from: 1000, to: 30, kind: 'budget' },
        { step: 5, from: 30, to: 20, kind: 'budget' },
      ]),
    ).toMatch(/replans\[1\] does not follow/);
    expect(bad('x')).toMatch(/replans must be a list/);
  });
});

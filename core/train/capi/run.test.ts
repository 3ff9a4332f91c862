// CAPI through the pretraining run loop (run.ts runPretrain with preset capi): its schedules follow the run's
// re-plans without a jump (capi/schedule.ts plannedCapiScheduleAt), and a minutes budget on a real project
// fixes the run's length from its timed steps, with CAPI's losses and the EMA encoder's health in progress.jsonl.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_CAPI_OVERRIDES, type TrainConfig, trainConfig } from '../config.js';
import { textureProject } from '../fixtures/texture-project.js';
import { runPretrain } from '../run.js';
import { replanned } from '../schedule-plan.js';
import { type CapiStepValues, capiScheduleAt, plannedCapiScheduleAt } from './schedule.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-capi-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = ['lr', 'wd', 'clusteringLr', 'momentum'] as const;

/** The largest step-to-step change of each value over steps [a, b). */
function maxStep(c: TrainConfig, a: number, b: number): Record<keyof CapiStepValues, number> {
  const out = { lr: 0, wd: 0, clusteringLr: 0, momentum: 0 };
  let prev = plannedCapiScheduleAt(c, a);
  for (let s = a + 1; s < b; s++) {
    const v = plannedCapiScheduleAt(c, s);
    for (const k of KEYS) out[k] = Math.max(out[k], Math.abs(v[k] - prev[k]));
    prev = v;
  }
  return out;
}

describe('CAPI schedules through re-plans', () => {
  const c0 = trainConfig('capi', { steps: 1000 });

  it('no re-plans: exactly the fixed plan; a budget re-plan re-times the rest without a jump', () => {
    for (const s of [0, 50, 99, 500, 999, 1000]) expect(plannedCapiScheduleAt(c0, s)).toEqual(capiScheduleAt(c0, s));
    const c = replanned(c0, 400, 1700, 'budget');
    for (const s of [0, 150, 400]) expect(plannedCapiScheduleAt(c, s)).toEqual(capiScheduleAt(c0, s));
    // The plan's end (the truncated cosine's last value) on the new last step.
    const u = (s: number): number => 400 + ((s - 400) * 600) / 1300; // plan steps 400…1000 over real 400…1700
    for (const s of [401, 1000, 1699, 1700]) expect(plannedCapiScheduleAt(c, s).lr).toBeCloseTo(capiScheduleAt(c0, u(s)).lr, 12);
    const jumps = maxStep(c, 380, 1700);
    const base = maxStep(c0, 380, 1000);
    for (const k of KEYS) expect(jumps[k]).toBeLessThanOrEqual(base[k] + 1e-12);
  });

  it('an extension of a finished run joins where it stopped: no second warm-up from 0, no jump, the new plan after the ramp', () => {
    const c = replanned(c0, 1000, 1500, 'extend');
    const end = capiScheduleAt(c0, 999);
    const at = plannedCapiScheduleAt(c, 1000);
    // Where the run stopped (the final values after its last step), not a warm-up's 0.
    const stopped = capiScheduleAt(c0, 1000);
    for (const k of KEYS) expect(at[k]).toBeCloseTo(stopped[k], 12);
    expect(at.lr).toBeLessThan(end.lr + 1e-12);
    const ramp = Math.round(c0.optim.warmupFraction * 500);
    const fresh = capiScheduleAt({ ...c0, steps: 1500 }, 1000 + ramp + 10);
    expect(plannedCapiScheduleAt(c, 1000 + ramp + 10)).toEqual(fresh);
    // Every value moves at most one ramp step's worth (or the new cosine's) at a time.
    const jumps = maxStep(c, 1000, 1500);
    for (const k of KEYS) expect(jumps[k]).toBeLessThanOrEqual(Math.abs(capiScheduleAt(c0, 100)[k] - stopped[k]) / ramp + 1e-9);
  });
});

describe('a CAPI run with a minutes budget', () => {
  it('fixes its length from the timed steps and records the CAPI losses and the encoder health', async () => {
    const project = await textureProject(dir, join(dir, 'p'), 128);
    const lines: string[] = [];
    const overrides = { ...TINY_CAPI_OVERRIDES, runtime: { threads: 1 } };
    const summary = await runPretrain(project, { name: 'budget', preset: 'capi', overrides, minutes: 0.05, log: (l) => lines.push(l) });
    expect(summary).toMatchObject({ status: 'done', precision: 'fp32', stepsFrom: { kind: 'minutes', minutes: 0.05 } });
    expect(summary.stepsFrom.kind === 'minutes' && summary.stepsFrom.secondsPerStep > 0).toBe(true);
    expect(summary.totalSteps).toBeGreaterThanOrEqual(3);
    expect(summary.steps).toBe(summary.totalSteps);
    expect(lines.some((l) => /^capi: [\d.]+ s\/step now → \d+ steps in 0\.05 min/.test(l))).toBe(true);
    const steps = readFileSync(join(summary.dir, 'progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; losses: Record<string, number>; health?: { locality: number } });
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: summary.totalSteps }, (_, i) => i + 1));
    for (const s of steps) {
      expect(Object.keys(s.losses).sort()).toEqual(['capi', 'clustering', 'total']);
      expect(s.losses.total).toBeCloseTo(s.losses.capi + s.losses.clustering, 5);
    }
    // Health of the EMA encoder after step 1 and at the last step (health.every 100 is past this run).
    expect(steps[0].health?.locality).toBeTypeOf('number');
    expect(steps[steps.length - 1].health?.locality).toBeTypeOf('number');
  }, 120_000);
});

// The time estimate before Start, measured for real: one step of a tiny config timed in a training child
// through AppService.trainEstimate ('measuring', then 'measured', then cached), the budget in time and
// steps from it, no measurement while a run trains, and the measured step against the steps of a real run
// of the same config (a generous factor: the machine is shared).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../../analysis/fixture.js';
import type { TrainEstimate, TrainStartOptions, TrainStepInfo } from '../../common/api.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { TINY_OVERRIDES } from '../config.js';
import { budgetTiming } from './timing.js';

const root = mkdtempSync(join(tmpdir(), 'dinoscope-train-timing-'));
let service: AppService;
const overrides = { ...TINY_OVERRIDES, runtime: { threads: 1 } };

beforeAll(async () => {
  process.env.DINOSCOPE_HOME = join(root, 'home');
  service = new AppService({ host: 'serve', version: '0.0.0', urls: rootAssetUrls, homeDir: root });
  const files = await writeMosaics(join(root, 'images'), 1, { side: 256, stride: 64, dim: 8 });
  await service.createProject(join(root, 'p'));
  await service.importPaths(files);
  await service.idle();
}, 120_000);
afterAll(async () => {
  await service.close();
  rmSync(root, { recursive: true, force: true });
});

async function measured(o: TrainStartOptions, timeoutMs = 90_000): Promise<TrainEstimate> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = await service.trainEstimate(o);
    if (e.timing?.state !== 'measuring') return e;
    if (Date.now() > until) throw new Error('the step was not measured in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('budgetTiming', () => {
  it('turns a measured step into the time of a step budget and the steps of a minutes budget', () => {
    const t = { startupSeconds: 20, firstStepSeconds: 10, secondsPerStep: 7 };
    // 1,000 steps: 30 s to the end of step 1, then 999 × 7 s.
    expect(budgetTiming(t, { steps: 1000 })).toEqual({
      state: 'measured',
      secondsPerStep: 7,
      startupSeconds: 30,
      steps: 1000,
      totalSeconds: 30 + 999 * 7,
    });
    // 10 minutes count from the first step on (core/train/run.ts): (600 − 10) / 7 + 1 = 85 steps.
    expect(budgetTiming(t, { minutes: 10 })).toMatchObject({ steps: 85, totalSeconds: 620 });
  });
});

describe('the time estimate (AppService.trainEstimate)', () => {
  it('measures one step of the config in a child, then answers from its cache', async () => {
    const o: TrainStartOptions = { preset: 'quick', steps: 40, overrides };
    const first = await service.trainEstimate(o);
    expect(first.totalBytes).toBeGreaterThan(0); // the memory estimate does not wait for the timing
    expect(first.timing).toEqual({ state: 'measuring' });
    const e = await measured(o);
    expect(e.timing?.state).toBe('measured');
    const t = e.timing!;
    expect(t.secondsPerStep).toBeGreaterThan(0);
    expect(t.startupSeconds).toBeGreaterThan(t.secondsPerStep!);
    expect(t.steps).toBe(40);
    expect(t.totalSeconds).toBeCloseTo(t.startupSeconds! + 39 * t.secondsPerStep!, 6);
    // Cached: the same figure at once; a minutes budget of the same config needs no new measurement.
    expect((await service.trainEstimate(o)).timing).toEqual(t);
    const m = (await service.trainEstimate({ preset: 'quick', minutes: 0.5, overrides })).timing!;
    expect(m.state).toBe('measured');
    expect(m.secondsPerStep).toBe(t.secondsPerStep);
    expect(m.steps).toBeGreaterThanOrEqual(1);

    // A real run of the config: its steps take about the measured time (the shared machine allows a factor).
    const steps: { step: number; at: number }[] = [];
    const off = service.on('trainStep', (s: TrainStepInfo) => s.run === 't1' && steps.push({ step: s.step, at: performance.now() }));
    await service.startTraining({ ...o, steps: 25, name: 't1' });
    // While it trains nothing is measured (a new config would be timed against a busy machine).
    const busy = await service.trainEstimate({ preset: 'quick', steps: 40, overrides: { ...overrides, seed: 7 } });
    expect(busy.timing).toMatchObject({ state: 'busy', message: expect.stringContaining('A run is training') });
    const end = await service.training.settled(service.requireProject().dir, 't1');
    off();
    expect(end.status).toBe('done');
    const a = steps.find((s) => s.step >= 2)!;
    const b = steps.at(-1)!;
    const real = (b.at - a.at) / 1000 / (b.step - a.step);
    expect(real / t.secondsPerStep!).toBeGreaterThan(0.2);
    expect(real / t.secondsPerStep!).toBeLessThan(5);
  }, 240_000);
});

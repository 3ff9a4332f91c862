// The time estimate before Start, measured for real: one step of a tiny config timed in a training child
// through AppService.trainEstimate ('measuring', then 'measured', then cached), the budget in time and
// steps from it, no measurement while a run trains, and the measured step against the steps of a real run
// of the same config (a generous factor: the machine is shared).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainEstimate, TrainStartOptions } from '../../common/api.js';
import type { AppService } from '../../app/service.js';
import { TINY_OVERRIDES } from '../config.js';
import { budgetTiming } from './timing.js';
import { timedRun, timingService, untilMeasured } from '../../app/timing-fixture.js';

let root: string;
let service: AppService;
const overrides = { ...TINY_OVERRIDES, runtime: { threads: 1 } };

beforeAll(async () => {
  ({ root, service } = await timingService('dinoscope-train-timing-'));
}, 120_000);
afterAll(async () => {
  await service.close();
  rmSync(root, { recursive: true, force: true });
});

const measured = (o: TrainStartOptions): Promise<TrainEstimate> => untilMeasured(() => service.trainEstimate(o), 90_000);

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
    const real = await timedRun(
      service,
      't1',
      () => service.startTraining({ ...o, steps: 25, name: 't1' }),
      async () => {
        // While it trains nothing is measured (a new config would be timed against a busy machine).
        const busy = await service.trainEstimate({ preset: 'quick', steps: 40, overrides: { ...overrides, seed: 7 } });
        expect(busy.timing).toMatchObject({ state: 'busy', message: expect.stringContaining('A run is training') });
      },
    );
    expect(real.status).toBe('done');
    expect(real.secondsPerStep / t.secondsPerStep!).toBeGreaterThan(0.2);
    expect(real.secondsPerStep / t.secondsPerStep!).toBeLessThan(5);
  }, 240_000);
});

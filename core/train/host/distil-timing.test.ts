// The distillation form's estimate before Start, for real (AppService.distilEstimate): the memory at once, as
// the run's own log states it (distill/estimate.ts), then the time from one distillation step (the frozen
// teacher's forward and the student's step) measured in a training child with the run's own trainer; cached;
// a request the run would refuse is refused here first, in the same words; and the measured step against the
// steps of a real distillation run of the same request (a generous factor: the machine is shared).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistilStartOptions, TrainEstimate } from '../../common/api.js';
import type { AppService } from '../../app/service.js';
import { vitConfig } from '../../model/config.js';
import { writeModelFolder } from '../../model/manager/create.js';
import { initParams } from '../../model/params.js';
import { distilConfig, studentViT } from '../distill/config.js';
import { distillEstimate } from '../distill/estimate.js';
import { timedRun, timingService, untilMeasured } from '../../app/timing-fixture.js';

let root: string;
let service: AppService;
// A teacher wider than a Tiny and with more parameters (4 blocks of 384), at its random init: the cost of a
// step does not depend on the values.
const teacherVit = vitConfig('small', { depth: 4, patchSize: 16, registers: 4 });

beforeAll(async () => {
  let project: string;
  ({ root, project, service } = await timingService('dinoscope-distil-timing-'));
  const tensors = new Map(Object.entries(initParams(teacherVit, 1)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await writeModelFolder(join(project, 'models'), 'teach', teacherVit, tensors, {
    name: 'Teacher',
    source: 'test',
    licence: 'test',
    metadata: {},
  });
}, 120_000);
afterAll(async () => {
  await service.close();
  rmSync(root, { recursive: true, force: true });
});

const measured = (o: DistilStartOptions): Promise<TrainEstimate> => untilMeasured(() => service.distilEstimate(o), 150_000);

describe('the distillation estimate before Start (AppService.distilEstimate)', () => {
  it('refuses what the run would refuse, before measuring anything', async () => {
    await expect(service.distilEstimate({ teacher: 'teach', students: ['small'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/a small student \([\d.]+ M parameters\) is not smaller than the teacher/),
    });
    await expect(service.distilEstimate({ teacher: 'nope', students: ['tiny'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('states the memory at once, then the time of one measured step; cached; a real run takes about that', async () => {
    const o: DistilStartOptions = { teacher: 'teach', students: ['tiny'], steps: 40 };
    const first = await service.distilEstimate(o);
    const expected = distillEstimate(distilConfig('quick', { steps: 40 }), teacherVit, [
      { name: 'tiny', vit: studentViT(teacherVit, { size: 'tiny' }) },
    ]);
    expect(first.totalBytes).toBe(expected.totalBytes);
    expect(first.timing).toEqual({ state: 'measuring' });

    const e = await measured(o);
    expect(e.timing?.state).toBe('measured');
    const t = e.timing!;
    expect(t.secondsPerStep).toBeGreaterThan(0);
    expect(t.steps).toBe(40);
    expect(t.totalSeconds).toBeCloseTo(t.startupSeconds! + 39 * t.secondsPerStep!, 6);
    // Cached: the same figure at once; a minutes budget of the same request needs no new measurement.
    expect((await service.distilEstimate(o)).timing).toEqual(t);
    const m = (await service.distilEstimate({ ...o, steps: undefined, minutes: 0.5 })).timing!;
    expect(m).toMatchObject({ state: 'measured', secondsPerStep: t.secondsPerStep });
    // A real distillation run of the request: its steps take about the measured time.
    const real = await timedRun(
      service,
      'd1',
      () => service.startDistillation({ ...o, steps: 6, name: 'd1' }),
      async () => {
        // While it trains nothing new is measured (another preset is another step).
        const busy = await service.distilEstimate({ ...o, preset: 'standard' });
        expect(busy.timing).toMatchObject({ state: 'busy', message: expect.stringContaining('A run is training') });
      },
    );
    expect(real.status).toBe('done');
    expect(real.secondsPerStep / t.secondsPerStep!).toBeGreaterThan(0.2);
    expect(real.secondsPerStep / t.secondsPerStep!).toBeLessThan(5);
  }, 300_000);
});

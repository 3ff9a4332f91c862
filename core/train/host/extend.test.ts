// extendTraining through AppService, as both hosts drive it (the Train panel's "Continue for N minutes"): a
// finished run continues in a child process from its checkpoint, by steps and by minutes, its step counter
// and history going on; bad requests are refused in plain words.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../../analysis/fixture.js';
import type { TrainRunInfo } from '../../common/api.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { TINY_OVERRIDES } from '../config.js';

const root = mkdtempSync(join(tmpdir(), 'dinoscope-train-extend-'));
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

function waitRun(name: string, status: TrainRunInfo['status']): Promise<TrainRunInfo> {
  return new Promise((resolve) => {
    const off = service.on('trainRun', (r) => {
      if (r.name === name && r.status === status) {
        off();
        resolve(r);
      }
    });
  });
}

describe('AppService extendTraining', () => {
  it('continues a finished run by steps, then by minutes, from its checkpoint', async () => {
    let done = waitRun('x1', 'done');
    await service.startTraining({ preset: 'quick', steps: 3, overrides, name: 'x1' });
    expect(await done).toMatchObject({ status: 'done', step: 3, totalSteps: 3 });

    done = waitRun('x1', 'done');
    const more = await service.extendTraining('x1', { steps: 2 });
    expect(more).toMatchObject({ name: 'x1', status: 'running', step: 3, totalSteps: 5 });
    expect(await done).toMatchObject({ status: 'done', step: 5, totalSteps: 5, checkpointStep: 5 });

    done = waitRun('x1', 'done');
    await service.extendTraining('x1', { minutes: 0.1 });
    const end = await done;
    expect(end.status).toBe('done');
    expect(end.step).toBeGreaterThan(5);
    expect(end.totalSteps).toBe(end.step);
    const history = await service.trainingHistory('x1');
    expect(history.map((h) => h.step)).toEqual(Array.from({ length: end.step }, (_, i) => i + 1));
  }, 240_000);

  it('refuses bad requests with what to do', async () => {
    const refused = (run: string, o: unknown, text: string): Promise<void> =>
      expect(service.extendTraining(run, o as { minutes: number })).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: expect.stringContaining(text),
      });
    await refused('x1', { minutes: 0 }, 'minutes: must be more than 0 and at most 10080 (a week), got 0');
    await refused('x1', { minutes: '5' }, 'minutes: must be more than 0');
    await refused('x1', { steps: 1.5 }, 'steps: must be a whole number');
    await refused('x1', { steps: 2, minutes: 1 }, 'minutes: give either steps or minutes, not both');
    await refused('x1', {}, 'Give the run more steps or minutes');
    await refused('x1', null, 'Give the run more steps or minutes');
    await expect(service.extendTraining('nosuch', { steps: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});

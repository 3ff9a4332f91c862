// A distillation run through the training job host (real child processes, as the app's "Distil a small
// model" starts it): a teacher pretrained by the host first (the --tiny model), then two narrower students
// in one distillation run; the run finishes, streams steps and previews like any run, and each student's
// EMA is registered as the project model <run>-<size>.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DinoscopeEvents, TrainPreview, TrainStepInfo } from '../../common/api.js';
import { JobRegistry } from '../../jobs/registry.js';
import { Project } from '../../project/project.js';
import { TINY_OVERRIDES } from '../config.js';
import { TrainingHost } from '../host/host.js';
import { mosaicProject } from '../fixtures/mosaic-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-distil-host-'));
const proj = join(dir, 'p');

beforeAll(async () => {
  await mosaicProject(dir, proj);
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a distillation run in the training host', () => {
  it('trains two students on a teacher the host pretrained; steps, previews and both models', async () => {
    const steps: TrainStepInfo[] = [];
    const previews: TrainPreview[] = [];
    const emit = <E extends keyof DinoscopeEvents>(event: E, p: DinoscopeEvents[E]): void => {
      if (event === 'trainStep') steps.push(p as TrainStepInfo);
      if (event === 'trainPreview') previews.push(p as TrainPreview);
    };
    const host = new TrainingHost({ jobs: new JobRegistry(), emit, stepIntervalMs: 0, log: () => undefined });
    const base = { stage: 'pretrain' as const, preset: 'quick' as const, resume: false, checkpointMinutes: 0.0001, collapse: false };
    host.start(proj, { ...base, name: 'teach', overrides: { ...TINY_OVERRIDES, runtime: { threads: 1 } }, steps: 4 });
    expect(await host.settled(proj, 'teach')).toMatchObject({ status: 'done', modelId: 'teach' });

    const total = 6;
    host.start(proj, {
      ...base,
      name: 'd',
      steps: total,
      previewEvery: 3,
      overrides: {
        batchSize: 2,
        crops: { globalSize: 32, localSize: 16, localCrops: 2 },
        head: { hidden: 32, bottleneck: 16 },
        model: { vit: { dim: 16, depth: 1, heads: 2 } },
        runtime: { threads: 1 },
      },
      distil: { teacher: join(proj, 'models/teach/model.safetensors'), teacherName: 'teach', students: ['tiny', 'small'] },
    });
    const end = await host.settled(proj, 'd');
    expect(end).toMatchObject({ name: 'd', status: 'done', step: total, checkpointStep: total, modelId: 'd-tiny' });
    expect(steps.filter((s) => s.run === 'd').map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(previews.filter((p) => p.run === 'd').length).toBeGreaterThan(0);
    for (const id of ['d-tiny', 'd-small'])
      expect(JSON.parse(readFileSync(join(proj, 'models', id, 'dinoscope.json'), 'utf8'))).toMatchObject({ source: `run:${id}@${total}` });
    expect(existsSync(join(proj, 'runs/d/checkpoints/latest/distill.json'))).toBe(true);
    const rec = (await Project.open(proj)).runs().find((r) => (r as { name: string }).name === 'd');
    expect(rec).toMatchObject({ status: 'done', distil: { teacher: 'teach', students: ['tiny', 'small'] } });
  }, 240_000);
});

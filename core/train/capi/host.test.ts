// A CAPI run through the training job host (a real child process, as the Train panel's CAPI card starts it):
// the panel's preset list offers it with its clusters, the run streams steps carrying the CAPI loss (not
// DINO's terms) and PCA previews, DINO's collapse alerts stay off (CAPI's targets are Sinkhorn-balanced by
// construction and its steps have no CLS rank), and its EMA encoder is the project model at the end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DinoscopeEvents, TrainAlert, TrainPreview, TrainStepInfo } from '../../common/api.js';
import { JobRegistry } from '../../jobs/registry.js';
import { TINY_CAPI_OVERRIDES } from '../config.js';
import { TrainingHost } from '../host/host.js';
import { trainPresets } from '../host/presets.js';
import { mosaicProject } from '../fixtures/mosaic-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-capi-host-'));
const proj = join(dir, 'p');

beforeAll(async () => {
  await mosaicProject(dir, proj);
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a CAPI run in the training host', () => {
  it('is offered beside DINO + iBOT with its clusters', () => {
    const p = trainPresets().find((x) => x.name === 'capi');
    expect(p).toMatchObject({ stage: 'pretrain', sizedFor: 'cpu', objective: 'capi', settings: { prototypes: 4096, localCrops: 0 } });
    expect(p?.description).toMatch(/predicting the clusters of hidden patches/);
    expect(trainPresets().find((x) => x.name === 'quick')?.objective).toBe('dino');
  });

  it('streams CAPI losses and previews, raises no collapse alert, and registers its encoder', async () => {
    const steps: TrainStepInfo[] = [];
    const previews: TrainPreview[] = [];
    const alerts: TrainAlert[] = [];
    const emit = <E extends keyof DinoscopeEvents>(event: E, p: DinoscopeEvents[E]): void => {
      if (event === 'trainStep') steps.push(p as TrainStepInfo);
      if (event === 'trainPreview') previews.push(p as TrainPreview);
      if (event === 'trainAlert') alerts.push(p as TrainAlert);
    };
    const host = new TrainingHost({ jobs: new JobRegistry(), emit, stepIntervalMs: 0, log: () => undefined });
    const total = 6;
    host.start(proj, {
      stage: 'pretrain',
      preset: 'capi',
      name: 'c',
      resume: false,
      checkpointMinutes: 0.0001,
      previewEvery: 3,
      // Collapse alerts as in the app (on): thresholds that would fire on any DINO step after step 0.
      collapse: { sustain: 1, lowEntropy: 1, rank: 1e9 },
      overrides: { ...TINY_CAPI_OVERRIDES, optim: { warmupFraction: 0 }, runtime: { threads: 1 } },
      steps: total,
    });
    const end = await host.settled(proj, 'c');
    expect(end).toMatchObject({ name: 'c', preset: 'capi', status: 'done', step: total, checkpointStep: total, modelId: 'c' });
    const mine = steps.filter((s) => s.run === 'c');
    expect(mine.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const s of mine) {
      expect(s.losses.capi).toBeGreaterThan(0);
      expect(s.losses.clustering).toBeGreaterThan(0);
      expect(s.losses.dino).toBeUndefined();
      expect(s.signals.featureRank).toBeUndefined();
    }
    expect(mine[0].health?.locality).toBeTypeOf('number');
    expect(previews.filter((p) => p.run === 'c').length).toBeGreaterThan(0);
    expect(alerts).toEqual([]);
    expect(JSON.parse(readFileSync(join(proj, 'models/c/dinoscope.json'), 'utf8'))).toMatchObject({ source: `run:c@${total}` });
  }, 240_000);
});

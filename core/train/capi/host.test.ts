// A CAPI run through the training job host (a real child process, as the Train panel's CAPI card starts it):
// the panel's preset list offers it with its clusters, the run streams steps carrying the CAPI loss (not
// DINO's terms) and PCA previews, DINO's collapse alerts stay off (CAPI's targets are Sinkhorn-balanced by
// construction and its steps have no CLS rank), and its EMA encoder is the project model at the end. A CAPI
// loss that goes NaN pauses the run as a DINO run's does: a plain alert, the last good checkpoint kept, and
// resume restarts from it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DinoscopeEvents, TrainAlert, TrainPreview, TrainRunInfo, TrainStepInfo } from '../../common/api.js';
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

  it('pauses on a NaN loss with a plain alert and its last good checkpoint; resume restarts from it', async () => {
    const alerts: TrainAlert[] = [];
    const runs: TrainRunInfo[] = [];
    const waiters = new Set<() => void>();
    const emit = <E extends keyof DinoscopeEvents>(event: E, p: DinoscopeEvents[E]): void => {
      if (event === 'trainAlert') alerts.push(p as TrainAlert);
      if (event === 'trainRun') runs.push(p as TrainRunInfo);
      for (const w of waiters) w();
    };
    const until = (pred: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; last run event ${JSON.stringify(runs.at(-1))}`)),
          120_000,
        );
        const check = (): void => {
          if (!pred()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        waiters.add(check);
        check();
      });
    const host = new TrainingHost({ jobs: new JobRegistry(), emit, stepIntervalMs: 0, log: () => undefined });
    // A student lr of 1e12 (AdamW moves every weight by about the lr): the encoder's activations overflow
    // float32 within a few steps and the CAPI loss goes NaN.
    host.start(proj, {
      stage: 'pretrain',
      preset: 'capi',
      name: 'cnan',
      resume: false,
      checkpointMinutes: 0.0001,
      previewEvery: 0,
      overrides: { ...TINY_CAPI_OVERRIDES, optim: { baseLr: 1e12, warmupFraction: 0 }, runtime: { threads: 1 } },
      steps: 50,
    });
    await until(() => alerts.length > 0 && runs.at(-1)?.status === 'paused', 'the NaN alert and pause');
    expect(alerts[0]).toMatchObject({ run: 'cnan', kind: 'nan', paused: true });
    const m = /^loss became NaN\/infinite at step (\d+) .*the last checkpoint \(step (\d+)\) was kept\. Lower optim\.baseLr/.exec(
      alerts[0].message,
    );
    expect(m, alerts[0].message).not.toBeNull();
    const nanStep = Number(m![1]);
    expect(alerts[0].step).toBe(nanStep);
    // A checkpoint after every step: the one kept is the step before the NaN, as the alert says.
    expect(Number(m![2])).toBe(nanStep - 1);
    const state = (): number =>
      (JSON.parse(readFileSync(join(proj, 'runs/cnan/checkpoints/latest/state.json'), 'utf8')) as { step: number }).step;
    expect(state()).toBe(nanStep - 1);
    // Resume restarts from that checkpoint: the same state and batches, so the same step goes NaN again and
    // the run pauses again rather than failing.
    host.resume(proj, 'cnan');
    await until(() => alerts.length > 1 && runs.at(-1)?.status === 'paused', 'the second NaN alert after resume');
    expect(alerts[1]).toMatchObject({ run: 'cnan', kind: 'nan', step: nanStep, paused: true });
    expect(state()).toBe(nanStep - 1);
    const info = await host.stop(proj, 'cnan');
    expect(info.status).toBe('stopped');
  }, 240_000);
});

// The training job host on a real project (one generated PNG, the --tiny model, real child processes):
// SIGKILL of the child after a checkpoint → the host restarts it from that checkpoint and the run reaches
// its total; pause → no steps advance → resume → steps advance; every step, previews (PNG of the patch
// grid) and the trained teacher registered as a project model; a NaN loss pauses the run with an alert
// and its last good checkpoint, and stop then leaves it stopped (stop mid-run: service.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DinoscopeEvents, TrainAlert, TrainPreview, TrainRunInfo, TrainStepInfo } from '../../common/api.js';
import { TINY_OVERRIDES } from '../config.js';
import { JobRegistry } from '../../jobs/registry.js';
import { ModelManager } from '../../model/manager/manager.js';
import { TrainingHost } from './host.js';
import type { ChildRunOptions } from './protocol.js';
import { mosaicProject } from '../fixtures/mosaic-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-train-host-'));
const proj = join(dir, 'p');
const overrides = { ...TINY_OVERRIDES, runtime: { threads: 1 } };

beforeAll(async () => {
  await mosaicProject(dir, proj);
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A host whose events are recorded, with a waiter on them. */
function recordingHost(): {
  host: TrainingHost;
  jobs: JobRegistry;
  steps: TrainStepInfo[];
  runs: TrainRunInfo[];
  previews: TrainPreview[];
  alerts: TrainAlert[];
  until(pred: () => boolean, what: string, ms?: number): Promise<void>;
} {
  const steps: TrainStepInfo[] = [];
  const runs: TrainRunInfo[] = [];
  const previews: TrainPreview[] = [];
  const alerts: TrainAlert[] = [];
  const waiters = new Set<() => void>();
  const jobs = new JobRegistry();
  const emit = <E extends keyof DinoscopeEvents>(event: E, p: DinoscopeEvents[E]): void => {
    if (event === 'trainStep') steps.push(p as TrainStepInfo);
    if (event === 'trainRun') runs.push(p as TrainRunInfo);
    if (event === 'trainPreview') previews.push(p as TrainPreview);
    if (event === 'trainAlert') alerts.push(p as TrainAlert);
    for (const w of waiters) w();
  };
  const host = new TrainingHost({ jobs, emit, stepIntervalMs: 0, log: () => undefined });
  const until = (pred: () => boolean, what: string, ms = 120_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; last run event ${JSON.stringify(runs.at(-1))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { host, jobs, steps, runs, previews, alerts, until };
}

const opts = (name: string, steps: number, extra: Partial<ChildRunOptions> = {}): ChildRunOptions => ({
  name,
  stage: 'pretrain',
  preset: 'quick',
  overrides,
  steps,
  resume: false,
  checkpointMinutes: 0.01,
  previewEvery: 15,
  collapse: false,
  ...extra,
});
const stateStep = (name: string): number =>
  (JSON.parse(readFileSync(join(proj, 'runs', name, 'checkpoints/latest/state.json'), 'utf8')) as { step: number }).step;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TrainingHost', () => {
  it('restarts a SIGKILLed child from its checkpoint, pauses and resumes, finishes, previews and registers the model', async () => {
    const { host, jobs, steps, runs, previews, until } = recordingHost();
    const total = 30;
    const jobsSeen: string[] = [];
    jobs.on((p) => jobsSeen.push(`${p.kind}:${p.state}:${p.message ?? ''}`));
    // A checkpoint after every step: with a time-based cadence a fast machine finished all 30 tiny steps
    // before the first checkpoint past step 3, and the wait below timed out.
    host.start(proj, opts('r1', total, { checkpointMinutes: 0.0001 }));
    const last = (): TrainRunInfo | undefined => runs.at(-1);
    await until(
      () => (last()?.checkpointStep ?? 0) >= 3 && steps.length > 0 && steps[steps.length - 1].step > (last()?.checkpointStep ?? 0),
      'a checkpoint past step 3 and a step after it',
    );
    const knownCk = last()?.checkpointStep ?? 0;
    const pid = host.childPid(proj, 'r1');
    expect(pid).toBeGreaterThan(0);
    const before = steps.length;
    process.kill(pid as number, 'SIGKILL');
    // The restarted child's first step follows a checkpoint at or after the one the host knew of.
    await until(
      () => steps.length > before && steps.slice(before).some((s) => s.step <= steps[before - 1].step),
      'the first step after the restart',
    );
    const firstAfter = steps.slice(before).find((s) => s.step <= steps[before - 1].step) as TrainStepInfo;
    expect(host.childPid(proj, 'r1')).not.toBe(pid);
    expect(firstAfter.step - 1).toBeGreaterThanOrEqual(knownCk);
    expect(firstAfter.step - 1).toBeLessThan(steps[before - 1].step + 1);
    expect(jobsSeen.some((j) => /train:running:.*restarting it from the last checkpoint/.test(j))).toBe(true);

    // Pause: the run checkpoints and no steps advance until resume.
    host.pause(proj, 'r1');
    await until(() => last()?.status === 'paused', 'paused');
    const pausedAt = steps.length;
    expect(stateStep('r1')).toBe(steps[pausedAt - 1].step);
    await sleep(1000);
    expect(steps.length).toBe(pausedAt);
    host.resume(proj, 'r1');
    await until(() => steps.length > pausedAt, 'a step after resume');
    expect(steps[pausedAt].step).toBe(steps[pausedAt - 1].step + 1);

    const end = await host.settled(proj, 'r1');
    expect(end).toMatchObject({
      name: 'r1',
      status: 'done',
      step: total,
      totalSteps: total,
      checkpointStep: total,
      jobId: null,
      modelId: 'r1',
    });
    expect(steps.at(-1)?.step).toBe(total);
    expect(jobsSeen.at(-1)).toMatch(/^train:done:/);
    const lines = readFileSync(join(proj, 'runs/r1/progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(lines).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // Previews at step 1, every 10 steps and at the end: PNGs of the 4 × 4 patch grid (32 px / patch 8).
    expect(previews.map((p) => p.step)).toEqual(expect.arrayContaining([1, 15, 30]));
    const png = Buffer.from(previews.at(-1)!.png.replace(/^data:image\/png;base64,/, ''), 'base64');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 4, 4]);

    // The teacher is a project model with the run's ViT.
    const models = new ModelManager({ projectDir: () => proj, jobs, userDir: join(dir, 'user-models') });
    const m = (await models.list()).find((x) => x.id === 'r1');
    expect(m).toMatchObject({ location: 'project', arch: 'dinov2', dim: 32, depth: 1, heads: 2, patchSize: 8, registers: 2 });
    const loaded = await models.load('r1');
    expect(loaded.config).toMatchObject({ dim: 32, depth: 1, heads: 2, patchSize: 8, registers: 2 });
  }, 180_000);

  it('pauses on a NaN loss with an alert and the last good checkpoint; stop leaves it stopped', async () => {
    const { host, alerts, runs, until } = recordingHost();
    host.start(
      proj,
      opts('nan', 50, {
        checkpointMinutes: 0.0001,
        overrides: { ...overrides, optim: { baseLr: 1e12, clipGrad: 1e30, warmupFraction: 0 } },
      }),
    );
    await until(() => alerts.length > 0 && runs.at(-1)?.status === 'paused', 'the NaN alert and pause');
    expect(alerts[0]).toMatchObject({ run: 'nan', kind: 'nan', paused: true });
    expect(alerts[0].message).toMatch(/NaN\/infinite at step (\d+)/);
    const nanStep = Number(/at step (\d+)/.exec(alerts[0].message)?.[1]);
    // A checkpoint after every step: the one kept is the step before the NaN, as the alert says.
    expect(stateStep('nan')).toBe(nanStep - 1);
    expect(alerts[0].message).toContain(`the last checkpoint (step ${nanStep - 1}) was kept`);
    const info = await host.stop(proj, 'nan');
    expect(info.status).toBe('stopped');
  }, 120_000);
});

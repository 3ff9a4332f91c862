// The training API through AppService, as both hosts drive it: presets, hardware, estimate, bad input,
// startTraining → trainStep events (throttled, the last delivered) → trainRun done, history, the model in
// listModels, while the app imports and removes an image over and over (its project.json writes race the
// child's run records; both must survive); an adapt run of that model (Gram loss and health in every step) through the same host;
// cancelJob on a run's job stops it with a checkpoint; a record left 'running' by a crashed
// app is reported interrupted and resumes from its checkpoint to done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../../analysis/fixture.js';
import type { TrainRunInfo, TrainStepInfo } from '../../common/api.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { TINY_OVERRIDES } from '../config.js';
import { Project } from '../../project/project.js';
import type { RunRecord } from '../run.js';

const root = mkdtempSync(join(tmpdir(), 'dinoscope-train-service-'));
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

describe('AppService training', () => {
  it('describes presets, hardware and memory, and refuses bad input', async () => {
    const presets = await service.trainPresets();
    expect(presets.map((p) => p.name)).toEqual(expect.arrayContaining(['quick', 'standard']));
    expect(presets.find((p) => p.name === 'quick')).toMatchObject({
      stage: 'pretrain',
      sizedFor: 'cpu',
      settings: { size: 'tiny', patchSize: 16, registers: 4, globalSize: 112 },
    });
    const hw = await service.trainHardware();
    expect(hw.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    const quick = await service.trainEstimate({ preset: 'quick' });
    const standard = await service.trainEstimate({ preset: 'standard' });
    expect(standard.totalBytes).toBeGreaterThan(quick.totalBytes);
    expect(quick.text).toMatch(/^this needs ~\d/);
    await expect(service.startTraining({ preset: 'huge' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('Unknown preset'),
    });
    expect(presets.find((p) => p.name === 'adapt-cpu')).toMatchObject({ stage: 'adapt', sizedFor: 'cpu' });
    await expect(service.startTraining({ preset: 'quick', stage: 'adapt' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('is a pretrain preset; adapt presets: adapt-cpu'),
    });
    await expect(service.startTraining({ preset: 'adapt-cpu' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('needs the model to adapt'),
    });
    await expect(service.startTraining({ preset: 'quick', overrides: { nosuch: 1 } })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('unknown key nosuch'),
    });
    await expect(service.startTraining({ preset: 'quick', from: 'no-such-model' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);

  it('trains in a child process with live events, history and the model registered', async () => {
    const steps: TrainStepInfo[] = [];
    // With each step, the job as the job bar reads it at that moment. The step and job events are each
    // throttled on their own clock, so whether any of them coincide depends on the machine's load. A step
    // event carries the newest step the host has seen, so the job is at that same step when it arrives.
    const atStep: { step: number; eta: number | null; jobEta: number | null }[] = [];
    const off = service.on('trainStep', (s) => {
      steps.push(s);
      const job = service.jobs.running().find((j) => j.jobId === s.jobId);
      if (job?.done === s.step) atStep.push({ step: s.step, eta: s.etaSeconds, jobEta: job.etaSeconds });
    });
    const jobEtas = new Map<number, number | null>();
    const offJob = service.on('jobProgress', (p) => p.kind === 'train' && p.state === 'running' && jobEtas.set(p.done, p.etaSeconds));
    // What the run says it does before step 1 (TrainRunInfo.starting), in the order of the events.
    const order: string[] = [];
    const offRun = service.on(
      'trainRun',
      (r) => r.name === 's1' && order.push(r.starting !== undefined ? `starting: ${r.starting}` : `run ${r.status} ${r.step}`),
    );
    const offFirst = service.on('trainStep', (s) => s.step === 1 && order.push('step 1'));
    const done = waitRun('s1', 'done');
    const [extra] = await writeMosaics(join(root, 'extra'), 1, { side: 64, stride: 16, dim: 8 });
    const started = await service.startTraining({ preset: 'quick', steps: 12, overrides, name: 's1' });
    expect(started).toMatchObject({ name: 's1', status: 'running', stage: 'pretrain', preset: 'quick' });
    expect(started.jobId).toBeTruthy();
    // The app writes project.json while the child writes its run records.
    let training = true;
    let appWrites = 0;
    const churn = (async (): Promise<void> => {
      while (training) {
        const id = (await service.importPaths([extra])).added[0]?.id;
        if (id) await service.removeImage(id);
        appWrites += 2;
      }
    })();
    const end = await done;
    training = false;
    await churn;
    off();
    offJob();
    offRun();
    offFirst();
    const first = order.indexOf('step 1');
    // (A record written meanwhile repeats the current one.)
    expect(order.slice(0, first).filter((e, i, all) => e.startsWith('starting: ') && e !== all[i - 1])).toEqual([
      'starting: starting the training process',
      'starting: loading the images',
      'starting: building the training graph',
      'starting: writing the starting checkpoint',
      'starting: running the first step',
    ]);
    expect(order.slice(first).some((e) => e.startsWith('starting'))).toBe(false);
    expect(started.starting).toBe('starting the training process');
    // One ETA (core/jobs/eta.ts): the first step's time includes the child's start-up, so no ETA yet; later
    // steps carry the 'train' job's ETA, the figure the job bar shows.
    expect(steps[0]).toMatchObject({ step: 1, etaSeconds: null });
    expect(steps.filter((s) => s.step >= 3 && s.step < 12).every((s) => typeof s.etaSeconds === 'number' && s.etaSeconds > 0)).toBe(true);
    for (const s of steps.filter((s) => jobEtas.has(s.step))) expect(s.etaSeconds).toBe(jobEtas.get(s.step));
    expect(atStep.filter((a) => a.step >= 3 && a.step < 12 && (a.eta ?? 0) > 0).length).toBeGreaterThan(0);
    for (const a of atStep) expect(a.eta).toBe(a.jobEta);
    expect(appWrites).toBeGreaterThan(2);
    expect(
      service
        .requireProject()
        .images()
        .map((i) => i.path),
    ).not.toContain(extra);
    expect(end).toMatchObject({ status: 'done', step: 12, totalSteps: 12, checkpointStep: 12, modelId: 's1' });
    expect(steps.at(-1)).toMatchObject({ run: 's1', jobId: started.jobId, step: 12, total: 12 });
    expect(steps.map((s) => s.step)).toEqual([...steps.map((s) => s.step)].sort((a, b) => a - b));
    const history = await service.trainingHistory('s1');
    expect(history.map((h) => h.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(Number.isFinite(history[11].losses.total)).toBe(true);
    // Thinned for the panel's charts: the first and last steps and each stretch's extremes, in order.
    const thin = (await service.trainingHistory('s1', 6)).map((h) => h.step);
    expect(thin.length).toBeLessThanOrEqual(6);
    expect([thin[0], thin.at(-1)]).toEqual([1, 12]);
    expect(thin).toEqual([...thin].sort((a, b) => a - b));
    const runs = await service.trainingRuns();
    expect(runs.find((r) => r.name === 's1')).toMatchObject({ status: 'done', modelId: 's1', jobId: null });
    // project.json holds the child's final record (app writes re-read it under the lock: core/project/race.test.ts).
    expect((await Project.open(service.requireProject().dir)).runs().find((r) => (r as RunRecord).name === 's1')).toMatchObject({
      status: 'done',
      step: 12,
    });
    expect((await service.listModels()).find((m) => m.id === 's1')).toMatchObject({ location: 'project', dim: 32, patchSize: 8 });
    await expect(service.startTraining({ preset: 'quick', steps: 12, overrides, name: 's1' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('exists'),
    });
  }, 150_000);

  it('adapts the trained model to high resolution in a child process: Gram loss and health in the live steps', async () => {
    // Two size triples scaled to the tiny model (patch 8): the Gram teacher sees 48–64 px crops.
    const small = {
      batchSize: 2,
      crops: { globalSize: 32, localSize: 16, localCrops: 2 },
      head: { prototypes: 32, hidden: 32, bottleneck: 16 },
      gram: {
        sizeTable: [
          { global: 32, local: 16, gram: 48, p: 0.5 },
          { global: 40, local: 16, gram: 64, p: 0.5 },
        ],
      },
      health: { every: 2, tiles: 2, perImage: 4, radius: 1 },
      runtime: { threads: 1 },
    };
    const estimate = await service.trainEstimate({ stage: 'adapt', preset: 'adapt-cpu', from: 's1', overrides: small });
    expect(estimate.text).toMatch(/^this needs ~\d/);
    const steps: TrainStepInfo[] = [];
    const off = service.on('trainStep', (s) => {
      if (s.run === 'hi') steps.push(s);
    });
    const done = waitRun('hi', 'done');
    const started = await service.startTraining({
      stage: 'adapt',
      preset: 'adapt-cpu',
      from: 's1',
      steps: 4,
      overrides: small,
      name: 'hi',
    });
    expect(started).toMatchObject({ name: 'hi', stage: 'adapt', status: 'running' });
    expect(await done).toMatchObject({ status: 'done', step: 4, stage: 'adapt', modelId: 'hi' });
    off();
    const history = await service.trainingHistory('hi');
    expect(history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    for (const h of history) expect(Number.isFinite(h.losses.gram)).toBe(true);
    expect(history.filter((h) => h.health).map((h) => h.step)).toEqual(expect.arrayContaining([1, 4]));
    expect(steps.at(-1)?.step).toBe(4);
    expect((await service.listModels()).find((m) => m.id === 'hi')).toMatchObject({ location: 'project', dim: 32, patchSize: 8 });
  }, 150_000);

  it('cancelJob stops a run with a checkpoint; a record a crashed app left running is interrupted and resumes', async () => {
    const stopped = waitRun('s3', 'stopped');
    const firstStep = new Promise<void>((resolve) => {
      const off = service.on('trainStep', (s) => {
        if (s.run === 's3') {
          off();
          resolve();
        }
      });
    });
    const total = 30;
    const started = await service.startTraining({ preset: 'quick', steps: total, overrides, name: 's3' });
    await firstStep;
    await service.cancelJob(started.jobId as string);
    const end = await stopped;
    expect(end.step).toBeGreaterThan(0);
    expect(end.step).toBeLessThan(total);
    expect(end.checkpointStep).toBe(end.step);
    expect((await service.trainingRuns()).find((r) => r.name === 's3')).toMatchObject({ status: 'stopped', jobId: null });

    // As if the app had died mid-run: the record still says running and no child of this service has it.
    const dir = join(root, 'p');
    const p = await Project.open(dir);
    const rec = p.runs().find((r) => (r as RunRecord).name === 's3') as RunRecord;
    const crashed: RunRecord = { ...rec, status: 'running' };
    await p.update((x) => x.upsertRun(crashed));
    await service.openProject(dir);
    expect((await service.trainingRuns()).find((r) => r.name === 's3')).toMatchObject({ status: 'interrupted', checkpointStep: end.step });
    const done = waitRun('s3', 'done');
    const firstAfter = new Promise<number>((resolve) => {
      const off = service.on('trainStep', (s) => {
        off();
        resolve(s.step);
      });
    });
    expect((await service.resumeTraining('s3')).status).toBe('running');
    expect(await firstAfter).toBeGreaterThan(end.step);
    expect(await done).toMatchObject({ status: 'done', step: total });
    expect((await service.trainingHistory('s3')).map((h) => h.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }, 150_000);
});

// The training-host timing tests' shared parts (core/train/host timing.test.ts, distil-timing.test.ts): a
// service of their own on a project of one mosaic (the fixture of core/analysis), asking for an estimate until
// the host has measured its step, and timing a real run's steps as the service streams them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMosaics } from '../analysis/fixture.js';
import type { TrainEstimate, TrainStepInfo } from '../common/api.js';
import { AppService, rootAssetUrls } from './service.js';

/** A temp folder (`root`) holding the service's home and a project of one 256 px mosaic (`project`). */
export async function timingService(prefix: string): Promise<{ root: string; project: string; service: AppService }> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const service = new AppService({ host: 'serve', version: '0.0.0', urls: rootAssetUrls, homeDir: root });
  const files = await writeMosaics(join(root, 'images'), 1, { side: 256, stride: 64, dim: 8 });
  const project = join(root, 'p');
  await service.createProject(project);
  await service.importPaths(files);
  await service.idle();
  return { root, project, service };
}

/** Asks `ask` until its timing is no longer 'measuring' (or throws after `timeoutMs`). */
export async function untilMeasured(ask: () => Promise<TrainEstimate>, timeoutMs: number): Promise<TrainEstimate> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = await ask();
    if (e.timing?.state !== 'measuring') return e;
    if (Date.now() > until) throw new Error('the step was not measured in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Times run `run`'s steps as the service streams them: `start` starts the run, `whileRunning` runs while it
 * trains; resolves to the run's final status and its seconds a step after step 2 (the warm-up step left out).
 */
export async function timedRun(
  service: AppService,
  run: string,
  start: () => Promise<unknown>,
  whileRunning: () => Promise<void>,
): Promise<{ status: string; secondsPerStep: number }> {
  const steps: { step: number; at: number }[] = [];
  const off = service.on('trainStep', (s: TrainStepInfo) => s.run === run && steps.push({ step: s.step, at: performance.now() }));
  try {
    await start();
    await whileRunning();
    const end = await service.training.settled(service.requireProject().dir, run);
    const a = steps.find((s) => s.step >= 2)!;
    const b = steps.at(-1)!;
    return { status: end.status, secondsPerStep: (b.at - a.at) / 1000 / (b.step - a.step) };
  } finally {
    off();
  }
}

// `dinoscope demo` and the app's "Try the demo": generate the sample slides, make <dir> a project holding
// them, pretrain the Quick preset, register the run's teacher as a project model, extract features with
// it, and report what is where. One overall fraction over the phases (generating, importing, training,
// extracting) with a message naming the phase; the caller wraps it in a 'demo' job.
//
// Cancelling (the signal) stops at the next checkpoint of the running phase: generation between slides,
// training after the current step with a checkpoint written, extraction at the next batch. Everything
// finished stays, so running the demo again in the same folder resumes: existing slides are kept, the
// import skips images already in the project, an unfinished run continues from its checkpoint (a finished
// one is not retrained), and extraction resumes tile by tile. Delete the folder to start from scratch.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { extractFeatures, featureSetId } from '../features/extract/project.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { importPaths, type ImageFormats } from '../project/importer.js';
import { Project } from '../project/project.js';
import { runModelId } from '../train/host/register.js';
import { type PretrainRoute, pretrainRoute, routeLine, routeOverrides } from '../train/route.js';
import { checkpointDir } from '../train/run.js';
import { demoImageName, writeDemoImages, type DemoSpec } from './generate.js';
import { prepareDemoFolder, SLIDES } from './folder.js';
import { type DemoPhase, demoPhases } from './phases.js';
import { nextDemoRun } from './runs.js';
import type { DemoTrainer } from './train.js';

/** Features are extracted (and training tiles cut) at 2 µm/px: level 2 of the full slides, a 64 × 64
 * patch grid per slide with the Quick preset's ViT-Tiny/16. */
export const DEMO_MPP = 2;

export interface DemoPlan {
  /** Absolute folder: the project itself, with the slides in slides/. */
  dir: string;
  spec: DemoSpec;
  /** A new run's budget: minutes, or a fixed step count (tests). */
  minutes?: number;
  steps?: number;
  /** Config overrides of a new run beside the data resolution (the --tiny model for tests). */
  overrides?: Record<string, unknown>;
  /** Why a new run trains from random weights even when a foundation model is there (the tiny smoke test);
   * undefined: continued pretraining from a foundation model when there is one (core/train/route.ts). */
  scratchBecause?: string;
}

export interface DemoContext {
  signal: AbortSignal;
  /** Overall progress: done of total with the phase's message. */
  progress(done: number, total: number, message: string): void;
  formats: ImageFormats;
  train: DemoTrainer;
  /** Detail lines for a person (training steps, extraction per image). */
  log(line: string): void;
}

export interface DemoSummary {
  project: string;
  started: 'new' | 'resume' | 'restart';
  images: { id: string; name: string; path: string }[];
  run: string;
  steps: number;
  /** How the run started (continued pretraining from a foundation model, or from scratch) and why. */
  route: Pick<PretrainRoute, 'kind' | 'model' | 'why'>;
  model: string;
  featureSet: string;
  patches: number;
  seconds: number;
}

/** The route of a demo run begun earlier, from the start its saved config names. */
async function savedRoute(dir: string, run: string): Promise<PretrainRoute> {
  const text = await readFile(join(dir, 'runs', run, 'train-config.json'), 'utf8').catch(() => null);
  const from = text ? ((JSON.parse(text) as { model?: { from?: unknown } }).model?.from ?? null) : null;
  return typeof from === 'string'
    ? { kind: 'continued', model: from, weights: from, why: `run ${run}, begun earlier, started from these weights` }
    : { kind: 'scratch', model: null, weights: null, why: `run ${run}, begun earlier, started from random weights` };
}

const TOTAL = 1000;
/** Steps core/train/run.ts times before a minutes budget fixes the step count. */
const TIMED_STEPS = 3;

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

export async function runDemo(plan: DemoPlan, ctx: DemoContext): Promise<DemoSummary> {
  const t0 = performance.now();
  // The phases' shares of the bar follow their expected time (phases.ts); a step budget (tests) counts as 3 min.
  const phases = demoPhases(plan.minutes ?? 3);
  const report = (phase: DemoPhase, fraction: number, message: string): void => {
    const [a, b] = phases[phase];
    ctx.progress(Math.round(TOTAL * (a + (b - a) * Math.min(1, Math.max(0, fraction)))), TOTAL, message);
  };
  const cancelled = (): void => {
    if (ctx.signal.aborted) throw new DinoscopeError('CANCELLED', 'Demo: cancelled; run it again in the same folder to resume.');
  };
  const { dir, spec } = plan;
  const started = await prepareDemoFolder(dir, spec);
  ctx.log(`demo: ${started === 'resume' ? 'resuming the demo' : 'a new demo'} in ${dir}`);

  // 1. Slides (kept when a previous demo of this spec wrote them: each is written atomically).
  const slides = join(dir, SLIDES);
  const missing: number[] = [];
  for (let i = 0; i < spec.images; i++) if (!(await exists(join(slides, demoImageName(i))))) missing.push(i);
  report('generating', 0, `generating ${spec.images} sample slides`);
  if (missing.length) {
    await writeDemoImages(slides, spec, {
      signal: ctx.signal,
      only: missing,
      progress: (done, total) => report('generating', done / total, `generating slide ${done}/${total}`),
    });
  }
  const paths = Array.from({ length: spec.images }, (_, i) => join(slides, demoImageName(i)));
  cancelled();

  // 2. The project and its images (the importer skips images it already holds).
  report('importing', 0, `importing ${paths.length} slides`);
  let project = (await Project.exists(dir)) ? await Project.open(dir) : await Project.create(dir, 'Dinoscope demo');
  const jobs = new JobRegistry();
  jobs.on((p) => p.total > 0 && report('importing', p.done / p.total, `importing slides ${p.done}/${p.total}`));
  const { report: imported, background } = await importPaths({ project, formats: ctx.formats, jobs, changed: () => undefined }, paths);
  await background;
  if (imported.failed.length)
    throw new DinoscopeError('INTERNAL', `Demo: ${imported.failed[0].path} could not be imported (${imported.failed[0].reason}).`);
  cancelled();

  // 3. Pretraining: a new run, the unfinished one resumed, or the finished one kept.
  const next = nextDemoRun(project);
  let steps = next.steps;
  // Continued pretraining first: a foundation model of the user's models folder (the demo project's own
  // models are its runs') is the start when there is one; a run already begun keeps the start it had.
  const route =
    next.action === 'new' ? await pretrainRoute({ projectDir: dir, scratchBecause: plan.scratchBecause }) : await savedRoute(dir, next.run);
  ctx.log(`demo: ${routeLine(route)}`);
  if (next.action !== 'keep') {
    const tTrain = performance.now();
    report(
      'training',
      0,
      next.action === 'resume'
        ? `resuming training run ${next.run}`
        : plan.steps !== undefined
          ? `training ${plan.steps} steps`
          : 'training: timing the first steps',
    );
    const r = await ctx.train({
      project,
      run: next.run,
      resume: next.action === 'resume',
      minutes: plan.steps === undefined ? plan.minutes : undefined,
      steps: plan.steps,
      overrides: await routeOverrides(route, 'quick', { ...(plan.overrides ?? {}), data: { mpp: DEMO_MPP } }),
      signal: ctx.signal,
      // A minutes budget fixes the step count after the first steps are timed (core/train/run.ts): until
      // then the total is the preset's, so progress follows the clock and the message has no total.
      onStep: (step, total) => {
        const timing = plan.steps === undefined && next.action === 'new' && step < TIMED_STEPS;
        const fraction =
          plan.minutes !== undefined && next.action === 'new'
            ? Math.max(step / total, (performance.now() - tTrain) / (60_000 * plan.minutes))
            : step / total;
        report(
          'training',
          timing ? Math.min(fraction, 0.5) : fraction,
          timing ? `training step ${step} (timing the first steps)` : `training step ${step}/${total}`,
        );
      },
      log: ctx.log,
    });
    steps = r.steps;
    cancelled();
    if (r.status !== 'done')
      throw new DinoscopeError('CANCELLED', `Demo: training stopped at step ${r.steps}/${r.totalSteps}; run the demo again to resume.`);
  }
  project = await Project.open(dir);

  // 4. The run's teacher as a project model (models/<run>/), then features with it.
  const models = new ModelManager({ projectDir: () => dir, jobs });
  // The trainers register it at each checkpoint; a run trained before that existed is imported here.
  const model = await models
    .find(runModelId(next.run))
    .catch(() => models.importPath(checkpointDir(join(dir, 'runs', next.run)), { location: 'project', name: next.run }));
  const setId = featureSetId(model.id, { mpp: DEMO_MPP });
  const prior = project.featureSets().find((s) => s.id === setId);
  let patches =
    prior && project.images().every((i) => prior.images.some((e) => e.imageId === i.id && e.complete && e.indexedRows > 0))
      ? prior.images.reduce((s, e) => s + e.indexedRows, 0)
      : -1;
  if (patches < 0) {
    report('extracting', 0, `extracting features with ${model.id}`);
    const x = await extractFeatures(
      project,
      models,
      { modelId: model.id, mpp: DEMO_MPP },
      {
        signal: ctx.signal,
        log: ctx.log,
        progress: (done, total, message) => report('extracting', done / total, `extracting ${done}/${total} tiles: ${message}`),
      },
    );
    patches = x.images.reduce((s, e) => s + e.indexedRows, 0);
  }
  report('extracting', 1, 'done');
  const images = project.images().map((i) => ({ id: i.id, name: i.name, path: i.path }));
  return {
    project: dir,
    started,
    images,
    run: next.run,
    steps,
    route: { kind: route.kind, model: route.model, why: route.why },
    model: model.id,
    featureSet: setId,
    patches,
    seconds: (performance.now() - t0) / 1000,
  };
}

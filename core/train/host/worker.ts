// The training child process (forked by spawn.ts, driven by host.ts): runs core/train/run.ts runPretrain
// for one run and reports over the IPC channel (protocol.ts). Pause is a gate between steps that
// checkpoints first; stop aborts (the current step finishes, then a checkpoint); a NaN loss pauses with the
// last good checkpoint kept, and resume restarts from it; a sustained collapse sign pauses the run. When
// the parent goes away (its IPC channel closes) the run stops the same way as on stop.
import { DinoscopeError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { trainConfig } from '../config.js';
import { NanLossError, type RunOptions, type RunRecord, type RunSummary, runPretrain } from '../run.js';
import type { RunStepReport } from '../step-report.js';
import { CapiRun } from '../capi/run-trainer.js';
import type { TrainConfig } from '../config.js';
import type { ViTConfig } from '../../model/config.js';
import type { HostTensor } from '../../graph/tensor.js';
import { CollapseDetector, warmupSteps } from './collapse.js';
import { previewTile, teacherPreview } from './preview.js';
import type { ChildRunOptions, FromChild, ToChild } from './protocol.js';
import { measureStep } from './measure.js';
import { registerRunModel } from './register.js';
import { distilConfig } from '../distill/config.js';
import { type DistilOptions, runDistil, studentModelName } from '../distill/run.js';
import { overridesRunData, recordedRunData } from '../run-data.js';

const send = (m: FromChild): void => {
  if (process.connected) process.send?.(m);
};
/** Sends the last message and exits once it is on the channel. */
function finish(m: FromChild, code: number): void {
  if (!process.connected || !process.send) process.exit(code);
  process.send(m, undefined, {}, () => process.exit(code));
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const stop = new AbortController();
let pauseWanted = false;
let wake: (() => void) | null = null;
let lastStep = 0;

function awaken(): void {
  const w = wake;
  wake = null;
  w?.();
}

/** Patches the run's record as it is in project.json now (under the project lock: Project.update). */
async function setRecord(projectDir: string, name: string, patch: Partial<RunRecord>): Promise<RunRecord | null> {
  return (await Project.open(projectDir)).update((p) => {
    const r = p.runs().find((x): x is RunRecord => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === name);
    if (!r) return null;
    const updated: RunRecord = { ...r, ...patch, updatedAt: new Date().toISOString() };
    p.upsertRun(updated);
    return updated;
  });
}

async function readRecord(projectDir: string, name: string): Promise<RunRecord | null> {
  const p = await Project.open(projectDir);
  return p.runs().find((x): x is RunRecord => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === name) ?? null;
}

/** Blocks while paused (or until stop); returns false when stopped. */
async function waitWhilePaused(): Promise<boolean> {
  while (pauseWanted && !stop.signal.aborted) await new Promise<void>((r) => (wake = r));
  return !stop.signal.aborted;
}

/** What a run's watcher sees of its trainer: the model previews show (a run's teacher, a distillation's
 * first student's EMA) and what the collapse detector needs. */
interface Watched {
  objective?: 'capi';
  config: TrainConfig;
  prototypes: number;
  vit: ViTConfig;
  backbone: () => Promise<Map<string, HostTensor>>;
}

/**
 * After every step: the PCA preview of the watched model (step 1, every `previewEvery` steps, the last) and the
 * collapse detector on the step's signals (a sustained sign pauses the run with an alert).
 */
function stepWatcher(project: Project, o: ChildRunOptions): (r: RunStepReport, w: Watched) => Promise<void> {
  let tile: Float32Array | null = null;
  let detector: CollapseDetector | null = null;
  const previewEvery = o.previewEvery ?? 200;
  return async (r, w) => {
    const total = w.config.steps;
    if (previewEvery > 0 && (r.step === 1 || r.step % previewEvery === 0 || r.step === total)) {
      try {
        tile ??= await previewTile(project, w.config, w.vit.patchSize);
        const png = await teacherPreview(w.vit, await w.backbone(), tile, w.config.crops.globalSize, w.config.runtime.threads || undefined);
        send({ type: 'preview', step: r.step, png });
      } catch (err) {
        log(`train worker: preview at step ${r.step} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // CAPI's targets are Sinkhorn-balanced over the batch at every patch position by construction, and its
    // step has no CLS feature rank: DINO's collapse signs do not apply (its loss and the dense-feature health
    // are what to watch).
    if (o.collapse === false || w.objective === 'capi' || r.signals.featureRank === undefined) return;
    detector ??= new CollapseDetector(
      w.prototypes,
      warmupSteps(total, w.config.optim.warmupFraction, w.config.teacher.tempWarmupFraction),
      typeof o.collapse === 'object' ? o.collapse : {},
      2 * w.config.batchSize - 1,
    );
    const message = detector.observe(r.step, { teacherEntropy: r.signals.teacherEntropy, featureRank: r.signals.featureRank });
    if (message) {
      pauseWanted = true;
      send({ type: 'alert', kind: 'collapse', step: r.step, message });
    }
  };
}

/** `extend`: a resume that adds o.steps or o.minutes (only the first attempt: a NaN restart continues the plan). */
async function runOnce(projectDir: string, o: ChildRunOptions, resume: boolean, extend: boolean): Promise<RunSummary> {
  const project = await Project.open(projectDir);
  let first = true;
  let modelId: string | null = null;
  const watch = stepWatcher(project, o);
  const common: Omit<RunOptions<never>, 'afterStep' | 'onCheckpoint'> = {
    ...(resume
      ? { resume: true, name: o.name, ...(extend ? { steps: o.steps, minutes: o.minutes } : {}) }
      : { name: o.name, preset: o.preset, overrides: o.overrides, steps: o.steps, minutes: o.minutes }),
    checkpointMinutes: o.checkpointMinutes,
    signal: stop.signal,
    log,
    onPhase: (what) => send({ type: 'phase', what }),
    onStep: (report, total, eta) => {
      lastStep = report.step;
      send({ type: 'step', report, total, eta });
    },
    gate: async (checkpoint) => {
      if (first) {
        first = false;
        // A checkpoint at step 0 of a new run: a crash before the first timed checkpoint can still resume.
        if (!resume) {
          send({ type: 'phase', what: 'writing the starting checkpoint' });
          await checkpoint();
        }
      }
      if (!pauseWanted || stop.signal.aborted) return;
      await checkpoint();
      send({ type: 'paused', step: lastStep });
      if (await waitWhilePaused()) send({ type: 'resumed', step: lastStep });
    },
  };
  if (o.distil) return runDistilOnce(project, o, common, resume);
  return runPretrain(project, {
    ...common,
    afterStep: (trainer, r) =>
      watch(r, {
        ...(trainer instanceof CapiRun ? { objective: 'capi' as const } : {}),
        config: trainer.config,
        prototypes: trainer instanceof CapiRun ? trainer.prototypes : trainer.head.prototypes,
        vit: trainer.vit,
        backbone: () => trainer.teacherBackbone(),
      }),
    onCheckpoint: async (trainer, step) => {
      if (step > 0) modelId = await registerRunModel(projectDir, o.name, trainer.vit, await trainer.teacherBackbone(), step);
      const record = await readRecord(projectDir, o.name);
      if (record) send({ type: 'record', record, modelId });
    },
  });
}

/**
 * A distillation run (core/train/distill/run.ts) with the same hooks: previews and collapse alerts watch the
 * first student's EMA, and every student's EMA becomes the project model <run>-<size> at each checkpoint.
 */
async function runDistilOnce(
  project: Project,
  o: ChildRunOptions,
  common: Omit<DistilOptions, 'teacher' | 'students' | 'teacherName'>,
  resume: boolean,
): Promise<RunSummary> {
  const watch = stepWatcher(project, o);
  const d = o.distil!;
  return runDistil(project, {
    ...common,
    ...(resume ? {} : { teacher: d.teacher, teacherName: d.teacherName, students: d.students.map((size) => ({ size })) }),
    afterStep: (trainer, r) => {
      const first = trainer.studentList[0];
      return watch(r, {
        config: trainer.config,
        prototypes: trainer.teacher.head.prototypes,
        vit: first.vit,
        backbone: () => trainer.studentBackbone(first.name),
      });
    },
    onCheckpoint: async (trainer, step) => {
      let modelId: string | null = null;
      if (step > 0)
        for (const s of trainer.studentList) {
          const id = await registerRunModel(
            project.dir,
            studentModelName(o.name, s.name),
            s.vit,
            await trainer.studentBackbone(s.name),
            step,
          );
          modelId ??= id;
        }
      const record = await readRecord(project.dir, o.name);
      if (record) send({ type: 'record', record, modelId });
    },
  });
}

async function run(projectDir: string, o: ChildRunOptions): Promise<FromChild> {
  if (!o.resume) (o.distil ? distilConfig : trainConfig)(o.preset, o.overrides ?? {}); // BAD_INPUT before any folder is made
  let resume = o.resume;
  let extend = o.resume && (o.steps !== undefined || o.minutes !== undefined);
  for (;;) {
    try {
      return { type: 'done', summary: await runOnce(projectDir, o, resume, extend) };
    } catch (err) {
      if (!(err instanceof NanLossError) || err.checkpointStep === null) throw err;
      // NaN: pause with the last good checkpoint; resume restarts from it, stop leaves it stopped.
      const record = await setRecord(projectDir, o.name, { status: 'running', step: err.checkpointStep, error: err.message });
      if (record) send({ type: 'record', record, modelId: null });
      send({ type: 'alert', kind: 'nan', step: err.step, message: err.message });
      pauseWanted = true;
      send({ type: 'paused', step: err.checkpointStep });
      lastStep = err.checkpointStep;
      if (!(await waitWhilePaused())) {
        const rec = await setRecord(projectDir, o.name, { status: 'stopped' });
        if (rec) send({ type: 'record', record: rec, modelId: null });
        return {
          type: 'done',
          summary: {
            run: o.name,
            dir: rec?.dir ?? '',
            status: 'stopped',
            steps: err.checkpointStep,
            totalSteps: rec?.totalSteps ?? 0,
            startedFrom: err.checkpointStep,
            stepsFrom: { kind: 'steps' },
            finalLosses: null,
            lastCheckpoint: rec ? { dir: rec.dir, step: err.checkpointStep } : null,
            precision: rec?.precision ?? 'fp32',
            data: rec ? recordedRunData(rec) : overridesRunData(o.overrides),
          },
        };
      }
      send({ type: 'resumed', step: err.checkpointStep });
      resume = true;
      extend = false;
    }
  }
}

process.on('message', (m: ToChild) => {
  if (m.type === 'measure') {
    measureStep(m.projectDir, m.options, log).then(
      (timing) => finish({ type: 'measured', timing }, 0),
      (err: unknown) =>
        finish(
          {
            type: 'failed',
            error: err instanceof Error ? err.message : String(err),
            code: err instanceof DinoscopeError ? err.code : 'INTERNAL',
          },
          1,
        ),
    );
  } else if (m.type === 'start') {
    const { projectDir, options } = m;
    // The run's final record (done, stopped, failed) goes to the host before the last message, so the
    // app's open Project re-reads it (AppService onRecord) and the panel shows it.
    const finalRecord = async (): Promise<void> => {
      const record = await readRecord(projectDir, options.name).catch(() => null);
      if (record) send({ type: 'record', record, modelId: null });
    };
    run(projectDir, options).then(
      async (last) => {
        await finalRecord();
        finish(last, 0);
      },
      async (err: unknown) => {
        await finalRecord();
        finish(
          {
            type: 'failed',
            error: err instanceof Error ? err.message : String(err),
            code: err instanceof DinoscopeError ? err.code : 'INTERNAL',
          },
          1,
        );
      },
    );
  } else if (m.type === 'pause') pauseWanted = true;
  else if (m.type === 'resume') {
    pauseWanted = false;
    awaken();
  } else {
    stop.abort();
    awaken();
  }
});
// The parent went away (the app closed or crashed): stop at the next step boundary with a checkpoint.
process.on('disconnect', () => {
  stop.abort();
  awaken();
});

// A pretraining run in a project, checkpointed and resumable: the loop the CLI drives and, later, the job host.
// <project>/runs/<name>/ holds train-config.json (the merged config), checkpoints/latest/ (atomic, via
// Trainer.checkpoint) and progress.jsonl (one StepReport per line); project.json's `runs` lists the run.
// Checkpoints: every `checkpointMinutes`, on stop (signal: the current step finishes first) and at the end;
// never after a NaN step. `minutes` budgets: schedules count steps, so the step count is estimated from the
// first timed steps and re-estimated as the load changes (time-budget.ts), the schedules re-timed without a
// jump (schedule-plan.ts). A resume given `steps` or `minutes` extends the run: its schedules re-planned over
// the new total from the checkpoint's step on, the step counter, optimizer and teacher continued.
import type { HealthEntry } from './health/monitor.js';
import type { TrainRunData } from '../common/api.js';
import { recordedRunData, runDataFor } from './run-data.js';
import { appendFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError, FieldError } from '../common/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Project } from '../project/project.js';
import { type PresetName, type TrainConfig, type TrainObjective, type TrainStage, scratchViT, trainConfig } from './config.js';
import { inspectWeights } from '../model/weights/import.js';
import { type Precision } from './precision.js';
import { SkippedSteps } from './skipped-steps.js';
import { Trainer } from './trainer.js';
import type { RunLosses, RunStepReport } from './step-report.js';
import { CapiRun } from './capi/run-trainer.js';
import { capiEstimate } from './capi/estimate.js';
import { projectPanel, withPanelChannels } from './project-images.js';
import { channelRouteLine } from './channel-route.js';
import { type PretrainRoute, routeLine } from './route.js';
import { replanned } from './schedule-plan.js';
import { TIMED_STEPS, TimeBudget, checkBudget, stepsInMinutes } from './time-budget.js';

/**
 * What the run loop drives: the pretraining Trainer, or a distillation run's DistillTrainer
 * (core/train/distill). `label` starts the loop's log lines (the config's stage when absent).
 */
export interface RunTrainer {
  readonly config: TrainConfig;
  readonly completedSteps: number;
  readonly precision: Precision;
  readonly label?: string;
  step(): Promise<RunStepReport>;
  checkpoint(dir: string): Promise<void>;
  setTotalSteps(steps: number): void;
  revise(next: TrainConfig): void;
  /** Dense-feature health of the model now (null with health off); the loop asks for it when a minutes budget
   * ends the run at a step the trainer did not know was the last. */
  measureHealth?(): Promise<HealthEntry | null>;
}

/** What runPretrain drives: the DINO + iBOT + KoLeo Trainer, or a CAPI run (objective 'capi': capi/run-trainer.ts). */
export type PretrainTrainer = Trainer | CapiRun;

/** The options of one run of the loop; `T` is the trainer the job host's hooks see. */
export interface RunOptions<T extends RunTrainer = PretrainTrainer> {
  /** Continue the named run (or the project's latest) from its last checkpoint; with `steps` or `minutes`,
   * extend it by that many more steps or minutes. */
  resume?: boolean;
  /** Run name (folder under runs/); default run-<UTC timestamp>. */
  name?: string;
  preset?: PresetName;
  /** How a new run starts (continued pretraining or from scratch) and why (route.ts): logged and returned in
   * the summary. The starting weights themselves are `overrides.model.from`. */
  route?: PretrainRoute;
  /** Strict config overrides (see config.ts). */
  overrides?: Record<string, unknown>;
  /** Fixed step count (exclusive with minutes); with `resume`, steps to add. */
  steps?: number;
  /** Wall-clock budget from the first step on: the step count follows the measured speed; with `resume`,
   * minutes to add. */
  minutes?: number;
  /** Minutes between checkpoints (default 10). */
  checkpointMinutes?: number;
  /** Aborted: finish the current step, checkpoint, stop. */
  signal?: AbortSignal;
  /** Human progress lines. */
  log?: (line: string) => void;
  /** What the run is doing before its first step (loading the images, building the training graph, running
   * the first step), for a person watching: start-up takes seconds to minutes. */
  onPhase?: (what: string) => void;
  /** Every step's report with the run's total steps and the ETA in seconds. */
  onStep?: (r: RunStepReport, total: number, etaSeconds: number) => void;
  /** Job host hooks: `gate` is awaited before every step (pause: it calls `checkpoint` first, so a paused
   * run is safe to kill); `afterStep` sees the trainer after each recorded step (previews, collapse checks);
   * `onCheckpoint` runs after every checkpoint is written (model registration). */
  gate?: (checkpoint: () => Promise<void>) => Promise<void>;
  afterStep?: (trainer: T, r: RunStepReport) => Promise<void>;
  onCheckpoint?: (trainer: T, step: number, run: string) => Promise<void>;
}

/** A NaN/infinite loss: the run stops without a checkpoint; `checkpointStep` is the last good one. */
export class NanLossError extends DinoscopeError {
  constructor(
    message: string,
    readonly step: number,
    readonly checkpointStep: number | null,
  ) {
    super('INTERNAL', message);
  }
}

export interface RunRecord {
  name: string;
  /** Relative to the project folder. */
  dir: string;
  preset: PresetName;
  /** 'adapt' for high-resolution adaptation runs (absent on runs written before stages existed: pretrain). */
  stage?: TrainStage;
  status: 'running' | 'stopped' | 'done' | 'failed';
  step: number;
  totalSteps: number;
  checkpointStep: number | null;
  createdAt: string;
  updatedAt: string;
  error?: string;
  /** What the run's steps trained in (runtime.precision resolved for the device; the latest start's). Absent on
   * runs recorded before mixed precision existed: fp32. */
  precision?: Precision;
  /** Where its crops came from: 'uniform' (every image's tissue) or 'curated:NAME' (a curated set, config
   * data.tiles). Absent on runs recorded before curated sets existed: uniform. */
  data?: TrainRunData;
}

/** The record of a run starting now at step 0 (its folder runs/<name>). */
export function newRunRecord(name: string, config: TrainConfig, precision: Precision, now: string): RunRecord {
  return {
    name,
    dir: join('runs', name),
    preset: config.preset,
    stage: config.stage,
    status: 'running',
    step: 0,
    totalSteps: config.steps,
    checkpointStep: null,
    createdAt: now,
    updatedAt: now,
    precision,
    data: runDataFor(config.data.tiles),
  };
}

export interface RunSummary {
  run: string;
  dir: string;
  status: 'stopped' | 'done';
  /** Steps completed in total (including those before a resume). */
  steps: number;
  totalSteps: number;
  /** The checkpoint step this invocation started from (0 for a new run). */
  startedFrom: number;
  /** How the step count was chosen; for 'minutes' the last measured seconds per step (a moving average of
   * `timedSteps` steps), how often the count was re-estimated and the seconds from the first step to the end. */
  stepsFrom:
    | { kind: 'steps' }
    | { kind: 'minutes'; minutes: number; secondsPerStep: number; timedSteps: number; replans?: number; seconds?: number };
  finalLosses: RunLosses | null;
  /** What the steps of this invocation trained in (runtime.precision resolved for the device). */
  precision: Precision;
  /** Which tiles the run trains on: 'uniform' or 'curated:NAME' (its record's data). */
  data: TrainRunData;
  /** A new run's route, when the caller chose one (RunOptions.route). */
  route?: PretrainRoute;
  lastCheckpoint: { dir: string; step: number } | null;
}

/** Seconds per step of a run's last recorded steps (progress.jsonl: tiles per second at its batch size), or null. */
export async function recentSecondsPerStep(file: string, batchSize: number): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const rates: number[] = [];
  for (const l of text.split('\n').slice(-12)) {
    try {
      const r = JSON.parse(l) as { imagesPerSec?: unknown };
      if (typeof r.imagesPerSec === 'number' && r.imagesPerSec > 0) rates.push(batchSize / r.imagesPerSec);
    } catch {
      // an empty or torn line
    }
  }
  return rates.length ? rates.sort((a, b) => a - b)[rates.length >> 1] : null;
}

export function runDir(project: Project, name: string): string {
  return join(project.dir, 'runs', name);
}

export function checkpointDir(runFolder: string): string {
  return join(runFolder, 'checkpoints', 'latest');
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The last checkpoint of a run folder (a folder holding `marker`); a swap interrupted by a crash leaves the
 * previous one as `.latest.*.old`. */
export async function findCheckpoint(runFolder: string, marker = 'state.json'): Promise<string | null> {
  const ck = checkpointDir(runFolder);
  if (await exists(join(ck, marker))) return ck;
  const parent = join(runFolder, 'checkpoints');
  const names = await readdir(parent).catch(() => [] as string[]);
  const old = names.find((n) => n.startsWith('.latest.') && n.endsWith('.old'));
  return old && (await exists(join(parent, old, marker))) ? join(parent, old) : null;
}

function isRecord(v: unknown): v is RunRecord {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string';
}

/** Writes the run's record through Project.update (locked re-read), so others' changes are kept. */
export async function record(projectDir: string, rec: RunRecord): Promise<void> {
  const updated: RunRecord = { ...rec, updatedAt: new Date().toISOString() };
  await (await Project.open(projectDir)).update((p) => p.upsertRun(updated));
}

export async function pickRun(project: Project, name: string | undefined): Promise<RunRecord> {
  const runs = project.runs().filter(isRecord);
  if (name) {
    const r = runs.find((x) => x.name === name);
    if (!r)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${project.file}: no run named "${name}" (runs: ${runs.map((x) => x.name).join(', ') || 'none'}).`,
      );
    return r;
  }
  const latest = [...runs].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt)).pop();
  if (!latest) throw new FieldError('resume', 'there is no run to continue: start one without {resume}.', project.file);
  return latest;
}

/** Drops progress lines past `step` (written after the checkpoint a resume starts from). */
export async function trimProgress(file: string, step: number): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const keep = text.split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      return (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false; // a line torn by a kill
    }
  });
  await writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
}

const fmt = (v: number): string => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(4) : v.toExponential(2));

function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** The loss terms of a step's progress line: DINO's or CAPI's, whichever the step has. */
function lossTerms(l: RunLosses): string {
  const terms = (['dino', 'ibot', 'koleo', 'gram', 'capi', 'clustering'] as const).filter((k) => l[k] !== undefined);
  return terms.map((k) => `${k} ${fmt(l[k]!)}`).join(' ');
}

/** One progress line: step/total, each loss term, lr, teacher temperature, images/s, ETA. */
export function progressLine(r: RunStepReport, total: number, etaSeconds: number): string {
  const l = r.losses;
  const health = r.health ? `  locality ${r.health.locality.toFixed(3)} cls·patch ${r.health.clsPatchCosine.toFixed(3)}` : '';
  return `step ${r.step}/${total}  loss ${fmt(l.total)} (${lossTerms(l)})${health}  lr ${fmt(r.lr)}  τt ${r.teacherTemp.toFixed(4)}  ${r.imagesPerSec.toFixed(2)} img/s  ETA ${eta(etaSeconds)}`;
}

/** The objective of the run a checkpoint folder holds (its train-config.json; configs before CAPI: dino). */
async function checkpointObjective(ck: string): Promise<TrainObjective> {
  const saved = JSON.parse(await readFile(join(ck, 'train-config.json'), 'utf8').catch(() => '{}')) as { objective?: unknown };
  return saved.objective === 'capi' ? 'capi' : 'dino';
}

/** Runs (or resumes) a pretraining run in `project` to its end or until `signal` aborts. */
export async function runPretrain(project: Project, opts: RunOptions = {}): Promise<RunSummary> {
  const log = opts.log ?? ((): void => undefined);
  checkBudget(opts.steps, opts.minutes);
  const ckMinutes = opts.checkpointMinutes ?? 10;
  if (!(ckMinutes > 0)) throw new FieldError('checkpointMinutes', `must be positive, got ${ckMinutes}.`);
  if (!project.images().some((i) => i.status === 'ok'))
    throw new DinoscopeError('BAD_INPUT', `${project.file}: no readable (ok) images to train on.`);

  let rec: RunRecord;
  let trainer: PretrainTrainer;
  let folder: string;
  let startedFrom = 0;
  let stepsFrom: RunSummary['stepsFrom'] = { kind: 'steps' };
  const now = new Date().toISOString();
  if (opts.resume) {
    if (opts.preset || opts.overrides) {
      throw new FieldError(
        'resume',
        'continues a run with its saved config: drop {preset}, {from} and {overrides} ({steps} or {minutes} extend it).',
      );
    }
    const prev = await pickRun(project, opts.name);
    folder = join(project.dir, prev.dir);
    const ck = await findCheckpoint(folder);
    if (!ck) throw new DinoscopeError('BAD_INPUT', `${folder}: run "${prev.name}" has no checkpoint to resume from.`);
    trainer =
      (await checkpointObjective(ck)) === 'capi'
        ? await CapiRun.resumeProject(ck, project, { log })
        : await Trainer.resumeProject(ck, project, { log, phase: opts.onPhase });
    startedFrom = trainer.completedSteps;
    const was = trainer.config.steps;
    if (opts.steps !== undefined || opts.minutes !== undefined) {
      // Extension: the schedules re-planned over the new total from this step on (schedule-plan.ts).
      const sps =
        opts.minutes !== undefined ? ((await recentSecondsPerStep(join(folder, 'progress.jsonl'), trainer.config.batchSize)) ?? 1) : 0;
      const to = startedFrom + (opts.steps ?? stepsInMinutes(opts.minutes!, sps));
      trainer.revise(replanned(trainer.config, startedFrom, to, 'extend'));
      if (opts.minutes !== undefined) stepsFrom = { kind: 'minutes', minutes: opts.minutes, secondsPerStep: NaN, timedSteps: 0 };
    }
    rec = {
      ...prev,
      status: 'running',
      step: startedFrom,
      checkpointStep: startedFrom,
      totalSteps: trainer.config.steps,
      precision: trainer.precision,
    };
    const more =
      opts.steps !== undefined
        ? `, extended by ${opts.steps} steps to ${trainer.config.steps}`
        : opts.minutes !== undefined
          ? `, extended by ${opts.minutes} min (about ${trainer.config.steps - startedFrom} steps)`
          : '';
    log(
      `${trainer instanceof CapiRun ? trainer.label : trainer.config.stage}: resuming run ${prev.name} from its checkpoint at step ${startedFrom}/${was}${more}`,
    );
  } else {
    const name = opts.name ?? `run-${now.replace(/[:.]/g, '-')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new FieldError('name', `"${name}": use letters, digits, '.', '_' and '-'.`);
    if (project.runs().some((r) => isRecord(r) && r.name === name))
      throw new FieldError('name', `a run named "${name}" exists: continue it with {resume} or choose another name.`, project.file);
    const given: Record<string, unknown> = { ...(opts.overrides ?? {}) };
    if (opts.steps !== undefined) given.steps = opts.steps;
    if (opts.minutes !== undefined) {
      stepsFrom = { kind: 'minutes', minutes: opts.minutes, secondsPerStep: NaN, timedSteps: 0 };
    }
    // A project of one fluorescence panel trains on its channels unless the overrides say otherwise.
    const { overrides, panel: applied } = withPanelChannels(project, given);
    const panel = applied ?? projectPanel(project);
    if (applied) {
      log(
        `data: the images are a ${applied.channels}-channel panel (${applied.names.join(', ')}): training on their channels (model.channels ${applied.channels}).`,
      );
    }
    const config: TrainConfig = trainConfig(opts.preset ?? 'quick', overrides);
    folder = runDir(project, name);
    await mkdir(join(folder, 'checkpoints'), { recursive: true });
    if (config.objective === 'capi') {
      // CAPI (capi/): what a step needs, before the images and graphs are loaded.
      const vit = config.model.from ? (await inspectWeights(config.model.from)).config : scratchViT(config);
      for (const line of capiEstimate(config, vit).lines) log(`capi: ${line}`);
      opts.onPhase?.('loading the images and building the training graphs');
      trainer = await CapiRun.forProject(config, project, { log });
    } else trainer = await Trainer.forProject(config, project, { log, phase: opts.onPhase });
    rec = newRunRecord(name, config, trainer.precision, now);
    const stage = trainer instanceof CapiRun ? trainer.label : config.stage;
    if (opts.route) log(`${stage}: ${routeLine(opts.route)}`);
    if (opts.route?.channels && panel) log(`${stage}: ${channelRouteLine(opts.route.channels, panel)}`);
    log(
      `${stage}: run ${name} (${config.preset}), ${opts.minutes !== undefined ? `${opts.minutes} min budget` : `${config.steps} steps`}, into ${folder}`,
    );
  }
  // From here the trainer holds worker threads and onnxruntime sessions: every way out closes it, or a
  // failed write (a full disk, a file where the run folder should be) would leave the process running.
  try {
    return await runLoop(project, trainer, folder, rec, startedFrom, stepsFrom, opts);
  } finally {
    await trainer.close();
  }
}

/** The log line of a minutes budget's new step count. A budget spent before a step was timed (the first
 * step is a warm-up and is not counted) has no speed to show: the line says so instead of "NaN s/step". */
function budgetLine(stage: string, secondsPerStep: number, steps: number, minutes: number, firstPlan: boolean): string {
  if (!Number.isFinite(secondsPerStep))
    return `${stage}: the ${minutes} min budget was spent before a step was timed (the first is a warm-up) → stopping at step ${steps}`;
  return `${stage}: ${secondsPerStep.toFixed(2)} s/step now → ${steps} steps in ${minutes} min${firstPlan ? '' : ' (schedules re-timed)'}`;
}

/** The run's time estimate from the first step timed after the warm-up: `remaining` steps at `secondsPerStep`. */
export function timeLine(stage: string, secondsPerStep: number, remaining: number): string {
  return `${stage}: time: about ${eta(secondsPerStep * remaining)} for the remaining ${remaining} steps (${secondsPerStep.toFixed(2)} s a step on this computer, timed after the warm-up step)`;
}

/** The steps, checkpoints and run records of a started (or resumed) run; the caller closes the trainer. */
export async function runLoop<T extends RunTrainer>(
  project: Project,
  trainer: T,
  folder: string,
  rec: RunRecord,
  startedFrom: number,
  stepsFrom: RunSummary['stepsFrom'],
  opts: RunOptions<T>,
): Promise<RunSummary> {
  const log = opts.log ?? ((): void => undefined);
  const stage = (): string => trainer.label ?? trainer.config.stage;
  const ckMinutes = opts.checkpointMinutes ?? 10;
  const progress = join(folder, 'progress.jsonl');
  const ck = checkpointDir(folder);
  let lastCk: { dir: string; step: number } | null = startedFrom > 0 ? { dir: ck, step: startedFrom } : null;
  let last: RunStepReport | null = null;
  let ckAt = performance.now();
  const times: number[] = [];
  const budget = stepsFrom.kind === 'minutes' ? new TimeBudget(stepsFrom.minutes * 60) : null;
  let budgetStart: number | null = null; // the first step's start: the budget counts from there
  let iterStart: number | null = null;
  let replans = 0;
  const skipped = new SkippedSteps();
  const save = async (): Promise<void> => {
    if (lastCk?.step === trainer.completedSteps) return;
    await trainer.checkpoint(ck);
    lastCk = { dir: ck, step: trainer.completedSteps };
    ckAt = performance.now();
    rec = { ...rec, step: trainer.completedSteps, checkpointStep: trainer.completedSteps };
    await record(project.dir, rec);
    log(`${stage()}: checkpoint at step ${trainer.completedSteps} → ${ck}`);
    await opts.onCheckpoint?.(trainer, trainer.completedSteps, rec.name);
  };
  let recorded = Boolean(opts.resume); // a new run is listed only once its folder holds its config
  try {
    if (opts.resume) await trimProgress(progress, startedFrom);
    await writeFileAtomic(join(folder, 'train-config.json'), JSON.stringify(trainer.config, null, 2) + '\n');
    await record(project.dir, rec);
    recorded = true;
    while (trainer.completedSteps < trainer.config.steps && !opts.signal?.aborted) {
      await opts.gate?.(save);
      if (opts.signal?.aborted) break;
      if (times.length === 0) opts.onPhase?.('running the first step');
      const ts = performance.now();
      budgetStart ??= ts;
      iterStart ??= ts;
      let r = await trainer.step();
      times.push((performance.now() - ts) / 1000);
      if (r.signals.nan || !Object.values(r.losses).every(Number.isFinite)) {
        throw new NanLossError(
          `loss became NaN/infinite at step ${r.step} (total ${r.losses.total}, ${lossTerms(r.losses)}); the last checkpoint (step ${lastCk?.step ?? 'none'}) was kept. Lower optim.baseLr or check the images.`,
          r.step,
          lastCk?.step ?? null,
        );
      }
      const skip = skipped.record(r, stage());
      if (skip.line) log(skip.line);
      if (skip.diverged)
        throw new NanLossError(
          `${skip.diverged} The last checkpoint (step ${lastCk?.step ?? 'none'}) was kept. Lower optim.baseLr, or train in fp32 (--precision fp32).`,
          r.step,
          lastCk?.step ?? null,
        );
      // --minutes: the step count follows the measured speed (time-budget.ts); the first estimate of a new run
      // sets its plan, every later one re-times the schedules from here on (schedule-plan.ts).
      if (budget && budgetStart !== null && iterStart !== null && stepsFrom.kind === 'minutes') {
        const now = performance.now();
        budget.record((now - iterStart) / 1000);
        iterStart = now;
        const to = budget.plan(r.step, trainer.config.steps, (now - budgetStart) / 1000);
        if (to !== null) {
          const firstPlan =
            budget.iterations >= TIMED_STEPS && stepsFrom.timedSteps === 0 && !trainer.config.replans.length && !opts.resume;
          if (firstPlan) trainer.setTotalSteps(Math.max(r.step, to));
          else trainer.revise(replanned(trainer.config, r.step, to, 'budget'));
          replans += firstPlan ? 0 : 1;
          const sps = budget.secondsPerStep();
          stepsFrom = { ...stepsFrom, secondsPerStep: sps, timedSteps: Math.min(budget.iterations - 1, 8), replans };
          rec = { ...rec, totalSteps: trainer.config.steps };
          log(budgetLine(stage(), sps, trainer.config.steps, stepsFrom.minutes, firstPlan));
        }
      }
      // A budget that ends the run at this step: the trainer measured health for the total it knew, so the
      // last step gets its measurement here (every run's last step has one).
      if (r.step === trainer.config.steps && !r.health && trainer.measureHealth) {
        const h = await trainer.measureHealth();
        if (h) r = { ...r, health: h };
      }
      last = r;
      await appendFile(progress, JSON.stringify(r) + '\n').catch((e: NodeJS.ErrnoException) => {
        e.path ??= progress; // a failed write (a full disk) names no file by itself
        throw e;
      });
      const recent = times.slice(-10);
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      const etaS = (trainer.config.steps - r.step) * mean;
      // A step count: the time it will take, as soon as one step after the warm-up has been timed.
      if (times.length === 2 && stepsFrom.kind !== 'minutes' && r.step < trainer.config.steps)
        log(timeLine(stage(), times[1], trainer.config.steps - r.step));
      opts.onStep?.(r, trainer.config.steps, etaS);
      log(progressLine(r, trainer.config.steps, etaS));
      await opts.afterStep?.(trainer, r);
      if (performance.now() - ckAt >= ckMinutes * 60_000 && r.step < trainer.config.steps) await save();
    }
    const stopped = trainer.completedSteps < trainer.config.steps;
    if (stepsFrom.kind === 'minutes' && budgetStart !== null)
      stepsFrom = { ...stepsFrom, seconds: (performance.now() - budgetStart) / 1000 };
    if (!lastCk || lastCk.step !== trainer.completedSteps) await save();
    rec = { ...rec, status: stopped ? 'stopped' : 'done', step: trainer.completedSteps, totalSteps: trainer.config.steps };
    await record(project.dir, rec);
    if (stopped)
      log(`${stage()}: stopped at step ${trainer.completedSteps}/${trainer.config.steps}; continue with --resume --run ${rec.name}`);
    return {
      run: rec.name,
      dir: folder,
      status: stopped ? 'stopped' : 'done',
      steps: trainer.completedSteps,
      totalSteps: trainer.config.steps,
      startedFrom,
      stepsFrom,
      finalLosses: last?.losses ?? null,
      ...(opts.route && !opts.resume ? { route: opts.route } : {}),
      lastCheckpoint: lastCk,
      precision: trainer.precision,
      data: recordedRunData(rec),
    };
  } catch (err) {
    // A run that failed before it was listed stays unlisted, so the same --run name can be used again.
    if (recorded) {
      rec = { ...rec, status: 'failed', error: err instanceof Error ? err.message : String(err) };
      await record(project.dir, rec).catch(() => undefined);
    }
    throw err;
  }
}

// The training job host, owned by AppService: each run is a child process (spawn.ts →
// worker.ts) so the app's main thread never trains. It turns the child's messages into the API's events
// (trainStep ≤ 10/s per run with the last always delivered, trainPreview, trainAlert, trainRun on every
// status change) and a 'train' job (done = step, total = steps; cancelling it stops the run), and
// restarts a child that dies unexpectedly from its last checkpoint: at most `maxRestarts` in
// `restartWindowMs`, then the run fails with the reason.
import type { ChildProcess } from 'node:child_process';
import type {
  DinoscopeEvents,
  TrainHealth,
  TrainRunData,
  TrainRunInfo,
  TrainRunStatus,
  TrainStage,
  TrainStepInfo,
} from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { Job, JobRegistry } from '../../jobs/registry.js';
import type { RunRecord } from '../run.js';
import type { RunStepReport } from '../step-report.js';
import type { ChildRunOptions, FromChild, ToChild } from './protocol.js';
import { forkTrainWorker } from './spawn.js';
import { StepThrottle } from './step-throttle.js';
import { StepTimings } from './timing.js';
import { overridesRunData, recordedRunData } from '../run-data.js';

export interface TrainingHostOptions {
  jobs: JobRegistry;
  emit<E extends keyof DinoscopeEvents>(event: E, payload: DinoscopeEvents[E]): void;
  /** Every run record a child wrote to project.json (the service keeps its open Project in step). */
  onRecord?(projectDir: string, record: RunRecord): void;
  /** Child stderr lines and host notices (default: stderr, progress lines left out). */
  log?(line: string): void;
  /** Override the worker file (a .js entry, or a .ts file run with tsx). */
  workerPath?: string;
  /** Crash restarts allowed within the window (default 3 in 10 minutes). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** Minimum milliseconds between trainStep events of one run (default 100: ≤ 10/s). */
  stepIntervalMs?: number;
}

interface LiveRun {
  projectDir: string;
  name: string;
  stage: TrainStage;
  options: ChildRunOptions;
  child: ChildProcess | null;
  job: Job;
  status: TrainRunStatus;
  step: number;
  totalSteps: number;
  checkpointStep: number | null;
  createdAt: string;
  updatedAt: string;
  modelId: string | null;
  error?: string;
  /** What the run trains in, from its record (written by the child at the start and at checkpoints). */
  precision?: 'fp32' | 'mixed';
  /** Which tiles it trains on: a resumed run's record says; a new run's overrides (data.tiles) say. */
  data: TrainRunData;
  /** What the child does before its first step (TrainRunInfo.starting); null once steps come. */
  starting: string | null;
  /** A stop was asked for: the child's exit is expected. */
  stopping: boolean;
  /** Whether the child reported its final message (done/failed). */
  ended: boolean;
  restarts: number[];
  settled: Promise<void>;
  settle(): void;
  /** Its live trainStep events (step-throttle.ts). */
  steps: StepThrottle;
}

/** The job's message while a run starts: the job bar shows it under the label. */
const startingMessage = (what: string): string => `Starting: ${what}…`;

const key = (projectDir: string, name: string): string => `${projectDir}\u0000${name}`;

/** The API's health figures from a step report's `health` (absent on most steps). */
function healthOf(h: unknown): TrainHealth | undefined {
  if (typeof h !== 'object' || h === null) return undefined;
  const v = h as { locality?: unknown; region?: unknown; clsPatchCosine?: unknown };
  if (typeof v.locality !== 'number' || typeof v.clsPatchCosine !== 'number') return undefined;
  return { locality: v.locality, clsPatchCosine: v.clsPatchCosine, ...(typeof v.region === 'number' ? { region: v.region } : {}) };
}

/** The API's step event from a child's step report (DINO's or CAPI's loss terms, whichever it has). */
export function stepInfo(run: string, jobId: string, r: RunStepReport, total: number, eta: number): TrainStepInfo {
  const info: TrainStepInfo = {
    run,
    jobId,
    step: r.step,
    total,
    losses: { ...r.losses },
    lr: r.lr,
    teacherTemp: r.teacherTemp,
    imagesPerSec: r.imagesPerSec,
    etaSeconds: Number.isFinite(eta) ? eta : null,
    signals: {
      teacherEntropy: r.signals.teacherEntropy,
      ...(r.signals.featureRank !== undefined ? { featureRank: r.signals.featureRank } : {}),
      nan: r.signals.nan,
    },
  };
  const health = healthOf((r as { health?: unknown }).health);
  if (health) info.health = health;
  if (r.amp) info.amp = { skipped: r.amp.skipped, lossScale: r.amp.lossScale };
  return info;
}

export class TrainingHost {
  private readonly runs = new Map<string, LiveRun>();
  private readonly log: (line: string) => void;
  /** Step times measured for the estimate before Start (timing.ts). */
  readonly timings: StepTimings;

  constructor(private readonly opts: TrainingHostOptions) {
    // Default: stderr, without the per-step progress lines (those arrive as trainStep events).
    this.log = opts.log ?? ((line) => void (/^\[train [^\]]*\] step \d+\//.test(line) || process.stderr.write(`${line}\n`)));
    this.timings = new StepTimings({
      busy: () => [...this.runs.values()].some((r) => !r.ended),
      log: (line) => this.log(line),
      workerPath: opts.workerPath,
    });
  }

  /** Starts a new run (or, with options.resume, continues a stopped/interrupted one) in a child process. */
  start(projectDir: string, options: ChildRunOptions, record?: Partial<RunRecord>): TrainRunInfo {
    const k = key(projectDir, options.name);
    const prev = this.runs.get(k);
    if (prev && !prev.ended) throw new DinoscopeError('BAD_INPUT', `Run "${options.name}" is already live (${prev.status}).`);
    this.timings.cancel(); // the run gets the machine
    const now = new Date().toISOString();
    // An extension by steps ends `steps` past the checkpoint; one by minutes learns its total from the child.
    const total = options.resume
      ? options.steps !== undefined
        ? (record?.checkpointStep ?? 0) + options.steps
        : (record?.totalSteps ?? 0)
      : (options.steps ?? record?.totalSteps ?? 0);
    let settle = (): void => undefined;
    const settled = new Promise<void>((r) => (settle = r));
    const run: LiveRun = {
      projectDir,
      name: options.name,
      stage: options.stage,
      options,
      child: null,
      job: this.opts.jobs.start('train', `Train ${options.name}`, total),
      status: 'running',
      step: record?.step ?? 0,
      totalSteps: total,
      checkpointStep: record?.checkpointStep ?? null,
      createdAt: record?.createdAt ?? now,
      updatedAt: now,
      modelId: null,
      data: options.resume && record ? recordedRunData(record) : overridesRunData(options.overrides),
      starting: 'starting the training process',
      stopping: false,
      ended: false,
      restarts: [],
      settled,
      settle,
      steps: new StepThrottle((info) => this.opts.emit('trainStep', info), this.opts.stepIntervalMs ?? 100),
    };
    run.job.signal.addEventListener('abort', () => void this.stopRun(run));
    // A resumed run starts at its checkpoint's step: that jump is no progress for the ETA.
    run.job.progress(run.step, total, startingMessage(run.starting!));
    run.job.hold();
    this.runs.set(k, run);
    this.spawn(run, options);
    this.changed(run);
    return this.info(run);
  }

  private spawn(run: LiveRun, options: ChildRunOptions): void {
    const child = forkTrainWorker((line) => this.log(`[train ${run.name}] ${line}`), this.opts.workerPath);
    run.child = child;
    child.on('message', (m: FromChild) => this.onMessage(run, m));
    child.on('exit', (code, signal) => this.onExit(run, child, code, signal));
    child.on('error', (err) => this.log(`[train ${run.name}] child error: ${err.message}`));
    this.send(run, { type: 'start', projectDir: run.projectDir, options });
    if (run.status === 'paused') this.send(run, { type: 'pause' });
  }

  private send(run: LiveRun, m: ToChild): void {
    if (run.child?.connected) run.child.send(m);
  }

  private onMessage(run: LiveRun, m: FromChild): void {
    switch (m.type) {
      case 'phase':
        run.starting = m.what;
        run.job.progress(run.step, run.totalSteps, startingMessage(m.what));
        this.changed(run);
        break;
      case 'step': {
        run.step = m.report.step;
        run.totalSteps = m.total;
        const started = run.starting !== null;
        run.starting = null;
        run.job.progress(m.report.step, m.total, started ? '' : undefined);
        if (started) this.changed(run);
        // The job's ETA (core/jobs/eta.ts), so the panel and the job bar show the same figure.
        run.steps.push(stepInfo(run.name, run.job.id, m.report, m.total, run.job.snapshot().etaSeconds ?? NaN));
        break;
      }
      case 'paused':
        run.job.hold();
        run.step = m.step;
        if (run.status !== 'paused') this.setStatus(run, 'paused');
        break;
      case 'resumed':
        run.job.hold(); // the time paused is no part of the rate
        if (run.status === 'paused') this.setStatus(run, 'running');
        break;
      case 'preview':
        this.opts.emit('trainPreview', { run: run.name, jobId: run.job.id, step: m.step, png: m.png });
        break;
      case 'alert':
        this.opts.emit('trainAlert', { run: run.name, jobId: run.job.id, step: m.step, kind: m.kind, message: m.message, paused: true });
        break;
      case 'record':
        run.checkpointStep = m.record.checkpointStep;
        run.totalSteps = m.record.totalSteps;
        if (m.modelId) run.modelId = m.modelId;
        if (!run.createdAt) run.createdAt = m.record.createdAt;
        if (m.record.precision) run.precision = m.record.precision;
        run.data = recordedRunData(m.record);
        this.opts.onRecord?.(run.projectDir, m.record);
        this.changed(run);
        break;
      case 'done':
        run.steps.flush();
        run.ended = true;
        run.step = m.summary.steps;
        run.totalSteps = m.summary.totalSteps;
        if (m.summary.lastCheckpoint) run.checkpointStep = m.summary.lastCheckpoint.step;
        run.job.finish(m.summary.status === 'done' ? 'done' : 'cancelled');
        this.setStatus(run, m.summary.status);
        break;
      case 'failed':
        run.steps.flush();
        run.ended = true;
        run.error = m.error;
        run.job.finish('failed', m.error);
        this.setStatus(run, 'failed');
        break;
    }
  }

  private onExit(run: LiveRun, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (run.child !== child) return;
    run.child = null;
    if (run.ended) {
      run.settle();
      return;
    }
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    if (run.stopping) {
      // Asked to stop and the child died before reporting: its last checkpoint stands.
      this.end(run, 'stopped', 'cancelled', `the training process ${how} while stopping`);
      return;
    }
    const now = Date.now();
    const window = this.opts.restartWindowMs ?? 10 * 60_000;
    run.restarts = run.restarts.filter((t) => now - t < window);
    if (run.restarts.length >= (this.opts.maxRestarts ?? 3)) {
      this.end(
        run,
        'failed',
        'failed',
        `The training process ${how}; it was restarted ${run.restarts.length} times in ${Math.round(window / 60_000)} minutes, so the run is stopped. Resume it from its last checkpoint when the cause is fixed.`,
      );
      return;
    }
    run.restarts.push(now);
    const message = `The training process ${how}; restarting it from the last checkpoint (step ${run.checkpointStep ?? 0}), restart ${run.restarts.length}.`;
    this.log(`[train ${run.name}] ${message}`);
    run.job.progress(run.checkpointStep ?? 0, run.totalSteps, message, true);
    run.step = run.checkpointStep ?? 0;
    run.starting = 'restarting the training process';
    // A restart continues the checkpoint's plan: steps or minutes would start (or extend) the run again.
    this.spawn(run, { ...run.options, resume: true, steps: undefined, minutes: undefined });
    this.changed(run);
  }

  private end(run: LiveRun, status: TrainRunStatus, jobState: 'done' | 'failed' | 'cancelled', message: string): void {
    run.steps.flush();
    run.ended = true;
    if (status === 'failed') run.error = message;
    run.job.finish(jobState, message);
    this.setStatus(run, status);
    run.settle();
  }

  private setStatus(run: LiveRun, status: TrainRunStatus): void {
    run.status = status;
    this.changed(run);
  }

  private changed(run: LiveRun): void {
    run.updatedAt = new Date().toISOString();
    this.opts.emit('trainRun', this.info(run));
  }

  private info(run: LiveRun): TrainRunInfo {
    const live = !run.ended;
    const out: TrainRunInfo = {
      name: run.name,
      stage: run.stage,
      preset: run.options.preset,
      status: run.status,
      step: run.step,
      totalSteps: run.totalSteps,
      checkpointStep: run.checkpointStep,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      jobId: live ? run.job.id : null,
      modelId: run.modelId,
      data: run.data,
    };
    if (run.error) out.error = run.error;
    if (run.precision) out.precision = run.precision;
    if (live && run.starting !== null && run.status === 'running') out.starting = run.starting;
    return out;
  }

  private require(projectDir: string, name: string): LiveRun {
    const run = this.runs.get(key(projectDir, name));
    if (!run || run.ended) throw new DinoscopeError('BAD_INPUT', `Run "${name}" is not live (start or resume it first).`);
    return run;
  }

  /** The run as this host knows it (live or ended in this session), or null. */
  get(projectDir: string, name: string): TrainRunInfo | null {
    const run = this.runs.get(key(projectDir, name));
    return run ? this.info(run) : null;
  }

  isLive(projectDir: string, name: string): boolean {
    const run = this.runs.get(key(projectDir, name));
    return run !== undefined && !run.ended;
  }

  /** Runs of a project this host started (live or ended in this session). */
  list(projectDir: string): TrainRunInfo[] {
    return [...this.runs.values()].filter((r) => r.projectDir === projectDir).map((r) => this.info(r));
  }

  /** The child's process id (tests kill it). */
  childPid(projectDir: string, name: string): number | null {
    return this.runs.get(key(projectDir, name))?.child?.pid ?? null;
  }

  pause(projectDir: string, name: string): TrainRunInfo {
    const run = this.require(projectDir, name);
    this.send(run, { type: 'pause' });
    return this.info(run);
  }

  /** Resumes a paused live run. */
  resume(projectDir: string, name: string): TrainRunInfo {
    const run = this.require(projectDir, name);
    if (run.status !== 'paused') throw new DinoscopeError('BAD_INPUT', `Run "${name}" is ${run.status}, not paused.`);
    this.send(run, { type: 'resume' });
    return this.info(run);
  }

  /** Checkpoints and stops a live run; resolves once its child has exited. */
  async stop(projectDir: string, name: string): Promise<TrainRunInfo> {
    const run = this.require(projectDir, name);
    await this.stopRun(run);
    return this.info(run);
  }

  private async stopRun(run: LiveRun): Promise<void> {
    if (!run.ended) {
      run.stopping = true;
      this.send(run, { type: 'stop' });
    }
    await run.settled;
  }

  /** Resolves when the run's child has exited for good (done, stopped or failed). */
  async settled(projectDir: string, name: string): Promise<TrainRunInfo> {
    const run = this.runs.get(key(projectDir, name));
    if (!run) throw new DinoscopeError('NOT_FOUND', `No run "${name}" in this session.`);
    await run.settled;
    return this.info(run);
  }

  /** Stops every live run (each checkpoints) and waits for the children; a child that does not exit within
   * `graceMs` is killed (its last checkpoint stands). */
  async close(graceMs = 120_000): Promise<void> {
    this.timings.cancel();
    const live = [...this.runs.values()].filter((r) => !r.ended);
    await Promise.all(
      live.map(async (run) => {
        const timer = setTimeout(() => run.child?.kill('SIGKILL'), graceMs);
        await this.stopRun(run);
        clearTimeout(timer);
      }),
    );
  }
}

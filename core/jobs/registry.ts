// A small registry of long-running work (imports, pyramid caches, extraction, training runs, the demo,
// attention maps): each job has an id, a kind, a label, progress with a rate and an ETA over recent progress
// (eta.ts: the one ETA every panel and the job bar show), and an AbortController. Listeners
// receive JobProgress events (throttled while running; the final state is always delivered).
import { randomUUID } from 'node:crypto';
import type { JobKind, JobProgress } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import { EtaEstimator } from './eta.js';

export type JobListener = (progress: JobProgress) => void;

/** Running updates closer together than this are not emitted (the latest state wins). */
const EMIT_INTERVAL_MS = 100;

export class Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly label: string;
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private done = 0;
  private total: number;
  private readonly eta = new EtaEstimator();
  private lastEmit = -Infinity;
  private state: JobProgress['state'] = 'running';
  private message: string | undefined;

  constructor(
    kind: JobKind,
    label: string,
    total: number,
    private readonly emit: (p: JobProgress) => void,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.id = randomUUID();
    this.kind = kind;
    this.label = label;
    this.total = total;
    this.signal = this.controller.signal;
  }

  get finished(): boolean {
    return this.state !== 'running';
  }

  snapshot(): JobProgress {
    const running = this.state === 'running';
    const etaSeconds = running ? (this.total > 0 ? this.eta.eta(this.total) : null) : 0;
    const p: JobProgress = {
      jobId: this.id,
      kind: this.kind,
      label: this.label,
      done: this.done,
      total: this.total,
      rate: running ? this.eta.rate() : 0,
      etaSeconds,
      state: this.state,
    };
    if (this.message !== undefined) p.message = this.message;
    return p;
  }

  /**
   * Report `done` of `total` items (total may be revised). `notice`: a message the user must see (a crashed
   * process restarted), emitted at once rather than left to the throttle, which a later update would
   * overwrite.
   */
  progress(done: number, total: number = this.total, message?: string, notice = false): void {
    if (this.finished) return;
    const t = this.now();
    this.eta.add(t, done);
    this.done = done;
    this.total = total;
    if (message !== undefined) this.message = message;
    if (notice || t - this.lastEmit >= EMIT_INTERVAL_MS || done >= total) {
      this.lastEmit = t;
      this.emit(this.snapshot());
    }
  }

  /** The work waits (a paused training run): the rate restarts from the next progress, without the wait. */
  hold(message?: string): void {
    if (this.finished) return;
    this.eta.reset();
    this.eta.add(this.now(), this.done);
    if (message !== undefined) this.message = message;
    this.lastEmit = this.now();
    this.emit(this.snapshot());
  }

  /** Throws DinoscopeError('CANCELLED') when the job was cancelled: call at checkpoints. */
  throwIfCancelled(): void {
    if (this.signal.aborted) throw new DinoscopeError('CANCELLED', `${this.label}: cancelled.`);
  }

  cancel(): void {
    if (this.finished) return;
    this.controller.abort();
  }

  finish(state: 'done' | 'failed' | 'cancelled', message?: string): void {
    if (this.finished) return;
    this.state = state;
    if (state === 'done') this.done = this.total;
    if (message !== undefined) this.message = message;
    this.emit(this.snapshot());
  }
}

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<JobListener>();

  start(kind: JobKind, label: string, total: number): Job {
    const job = new Job(kind, label, total, (p) => {
      for (const l of this.listeners) l(p);
      if (p.state !== 'running') this.jobs.delete(p.jobId);
    });
    this.jobs.set(job.id, job);
    job.progress(0, total);
    return job;
  }

  /** Runs `work` as a job: it finishes as done, failed (with the error message) or cancelled. */
  async run<T>(kind: JobKind, label: string, total: number, work: (job: Job) => Promise<T>): Promise<T> {
    const job = this.start(kind, label, total);
    try {
      const result = await work(job);
      job.finish('done');
      return result;
    } catch (err) {
      const cancelled = job.signal.aborted || (err instanceof DinoscopeError && err.code === 'CANCELLED');
      job.finish(cancelled ? 'cancelled' : 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  running(): JobProgress[] {
    return [...this.jobs.values()].map((j) => j.snapshot());
  }

  cancel(id: string): void {
    const job = this.jobs.get(id);
    if (!job) throw new DinoscopeError('NOT_FOUND', `No running job has the id ${id}.`);
    job.cancel();
  }

  on(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

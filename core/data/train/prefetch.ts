// Crops ahead of the trainer: N worker threads (default cores − 1, at least 1) produce batches into a
// bounded queue; `next()` hands them out in step order and records how long it blocked, so a run can
// show that the trainer never waits on data.
//
// Worker file: `./crops.worker.js` beside this module's URL — in the CLI bundle that is
// dist/cli/crops.worker.js (an esbuild entry in scripts/build.mjs). In the source tree (vitest, tsx) only
// crops.worker.ts exists; it is started as an eval worker that registers tsx's ESM loader
// (`tsx/esm/api`, resolved from the working directory, i.e. the repository root) and imports the .ts file.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DinoscopeError, fromEnvelope } from '../../common/errors.js';
import { startThread } from '../../io/thread.js';
import { type BatchConfig, type StepSizes, type TrainBatch, withSizes } from './batch.js';
import type { BatchMessage, FromWorker, ToWorker } from './protocol.js';
import type { SamplingPlan } from './sampler.js';

export interface PrefetchOptions {
  plan: SamplingPlan;
  config: BatchConfig;
  /** Worker threads (default: cores − 1, at least 1). */
  workers?: number;
  /** Batches produced or in flight ahead of the consumer (default 2 per worker, at least 2). */
  depth?: number;
  /** First step to produce: resuming at step k yields exactly the batches k, k+1, … of the original run. */
  startStep?: number;
  /** Override the worker script (a .js file URL). */
  workerUrl?: URL;
  /** Per-step crop sides (high-resolution adaptation); called once per step, in step order. */
  sizesFor?: (step: number) => StepSizes;
}

export interface PrefetchStats {
  /** Milliseconds each `next()` call blocked, in call order. */
  waits: number[];
  /** Milliseconds workers spent per batch, in completion order. */
  produceMs: number[];
  workers: number;
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

function startWorker(url?: URL): Worker {
  return url ? new Worker(url) : startThread('crops.worker.js', 'data/train/crops.worker.ts');
}

interface Slot {
  worker: Worker;
  busy: number;
  closed: boolean;
}

function toBatch(m: BatchMessage, base: BatchConfig): TrainBatch {
  const config = withSizes(base, m.sizes);
  return {
    step: m.step,
    sizes: m.sizes,
    crops: {
      batch: config.batchSize,
      channels: config.channels ?? null,
      global: m.global,
      local: m.local,
      ...(m.gram ? { gram: m.gram, gramSize: m.sizes.gram } : {}),
      config: config.crops,
    },
    masks: {
      masks: m.masks,
      indices: m.indices,
      weights: m.weights,
      count: m.count,
      upperBound: m.upperBound,
      images: 2 * config.batchSize,
      patches: m.masks.length / (2 * config.batchSize),
    },
    tiles: m.tiles,
  };
}

export class Prefetcher {
  private readonly slots: Slot[] = [];
  private readonly ready = new Map<number, TrainBatch>();
  private readonly pending = new Map<number, (m: FromWorker) => void>();
  private nextId = 1;
  private nextToProduce: number;
  private cursor: number;
  private readonly depth: number;
  private failure: Error | null = null;
  private waiter: { step: number; resolve: (b: TrainBatch) => void; reject: (e: Error) => void } | null = null;
  private closing = false;
  private readonly statsData: PrefetchStats;

  private constructor(private readonly opts: PrefetchOptions) {
    const n = Math.max(1, opts.workers ?? defaultWorkerCount());
    this.depth = Math.max(2, opts.depth ?? 2 * n);
    this.nextToProduce = this.cursor = opts.startStep ?? 0;
    this.statsData = { waits: [], produceMs: [], workers: n };
    for (let i = 0; i < n; i++) {
      const slot = { worker: startWorker(opts.workerUrl), busy: 0, closed: false };
      this.listen(slot);
      this.slots.push(slot);
    }
  }

  /** Starts the workers, sends them the plan and fills the queue. */
  static async start(opts: PrefetchOptions): Promise<Prefetcher> {
    const p = new Prefetcher(opts);
    try {
      await Promise.all(p.slots.map((s, i) => p.request(s, { type: 'init', id: 0, worker: i, plan: opts.plan, config: opts.config })));
    } catch (err) {
      await p.close();
      throw err;
    }
    p.pump();
    return p;
  }

  private request(slot: Slot, msg: ToWorker): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.type === 'error' ? reject(fromEnvelope(m.error)) : resolve(m)));
      slot.worker.postMessage({ ...msg, id });
    });
  }

  private listen(slot: Slot): void {
    slot.worker.on('message', (m: FromWorker) => {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.(m);
    });
    slot.worker.on('error', (err) => this.fail(new DinoscopeError('INTERNAL', `Crop worker failed: ${err.message}`)));
    slot.worker.on('exit', (code) => {
      slot.closed = true;
      if (!this.closing && code !== 0) this.fail(new DinoscopeError('INTERNAL', `Crop worker exited with code ${code}.`));
    });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const done of this.pending.values())
      done({ type: 'error', id: 0, error: { name: err.name, message: err.message, code: 'INTERNAL' } });
    this.pending.clear();
    this.waiter?.reject(err);
    this.waiter = null;
  }

  /** Keeps `depth` batches ready or in flight, each new step going to the least busy worker. */
  private pump(): void {
    while (!this.failure && !this.closing && this.nextToProduce - this.cursor < this.depth) {
      const slot = this.slots.filter((s) => !s.closed).sort((a, b) => a.busy - b.busy)[0];
      if (!slot) return;
      const step = this.nextToProduce++;
      slot.busy++;
      const sizes = this.opts.sizesFor?.(step);
      this.request(slot, { type: 'produce', id: 0, step, ...(sizes ? { sizes } : {}) }).then(
        (m) => {
          slot.busy--;
          if (m.type !== 'batch') return;
          this.statsData.produceMs.push(m.ms);
          const batch = toBatch(m, this.opts.config);
          if (this.waiter && this.waiter.step === step) {
            const w = this.waiter;
            this.waiter = null;
            w.resolve(batch);
          } else this.ready.set(step, batch);
        },
        (err: Error) => {
          slot.busy--;
          this.fail(err);
        },
      );
    }
  }

  /** The next batch in step order; blocks (and records how long) only when it is not ready yet. */
  async next(): Promise<TrainBatch> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new DinoscopeError('CANCELLED', 'The crop prefetcher is closed.');
    if (this.waiter) throw new Error('Prefetcher.next: the previous call has not returned yet');
    const step = this.cursor;
    const t0 = performance.now();
    let batch = this.ready.get(step);
    if (batch) this.ready.delete(step);
    else batch = await new Promise<TrainBatch>((resolve, reject) => (this.waiter = { step, resolve, reject }));
    this.statsData.waits.push(performance.now() - t0);
    this.cursor++;
    this.pump();
    return batch;
  }

  /** The step the next `next()` returns (what a checkpoint stores to resume the data stream). */
  get step(): number {
    return this.cursor;
  }

  stats(): PrefetchStats {
    return { waits: [...this.statsData.waits], produceMs: [...this.statsData.produceMs], workers: this.statsData.workers };
  }

  /** Asks every worker to close its readers and exit; terminates those that do not within 5 s. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.waiter?.reject(new DinoscopeError('CANCELLED', 'The crop prefetcher was closed.'));
    this.waiter = null;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.closed) return;
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        const id = this.nextId++;
        s.worker.postMessage({ type: 'close', id } satisfies ToWorker);
        const timer = setTimeout(() => void s.worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.ready.clear();
    this.pending.clear();
  }
}

// Worker threads that do every read of an image file for a host (the serve host, Electron's main
// process), so that no file, however slow or hostile to decode, holds up the host's event loop: other API
// calls, tiles of other images and events go on while it is read.
//
// One request per thread at a time, queued when all are busy; a thread may serve any reader (each opens
// its own copy of a reader when first asked, and keeps it until the reader is closed). Each request has a time budget: over it, the caller gets a plain
// TOO_LARGE error naming the file and the thread is terminated (reads cannot be interrupted otherwise)
// and replaced. A thread that dies (out of memory, a crash) fails only its own request.
//
// Worker file: reader.worker.js beside the bundle (dist/cli, or ../cli from dist/electron/main.cjs; see
// core/io/thread.ts startThread); in the source tree reader.worker.ts booted through tsx's loader.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DinoscopeError, fromEnvelope } from '../common/errors.js';
import type { ImageReader } from '../data/reader.js';
import { buildPyramidCache, needsPyramidCache } from '../data/pyramid-cache.js';
import { startThread } from '../io/thread.js';
import type { ImageFormats } from '../project/importer.js';
import type { FromReaderWorker, OpenReply, ReaderRequest, ToReaderWorker } from './protocol.js';
import { RemoteChannelReader, RemoteJpegTileReader, RemoteReader, type ReaderChannel } from './remote-reader.js';

export interface ReaderPoolOptions {
  /** Worker threads (default: the cores, at least 2 and at most 4). */
  size?: number;
  /** How long one read may take before it is refused and its thread replaced (default 30 s). */
  budgetMs?: number;
}

export const DEFAULT_READ_BUDGET_MS = 30_000;

interface Pending {
  req: ReaderRequest;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** The request it is working on. */
  current: (Pending & { id: number; timer: NodeJS.Timeout }) | null;
  /** Reader keys it has open (requests for them prefer it: no second open). */
  opened: Set<string>;
}

/** Consecutive threads that die before they are ready, after which the pool gives up. */
const MAX_START_FAILURES = 3;

function startWorker(): Worker {
  return startThread('reader.worker.js', 'reader-pool/reader.worker.ts');
}

export class ReaderPool implements ReaderChannel {
  readonly size: number;
  readonly budgetMs: number;
  private threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private nextKey = 1;
  private closed = false;
  private startFailures = 0;
  private broken: Error | null = null;

  constructor(options: ReaderPoolOptions = {}) {
    this.size = options.size ?? Math.max(2, Math.min(4, availableParallelism()));
    this.budgetMs = options.budgetMs ?? DEFAULT_READ_BUDGET_MS;
    if (!(this.size >= 1) || !(this.budgetMs > 0))
      throw new DinoscopeError(
        'BAD_INPUT',
        `reader pool: ${this.size} threads and a ${this.budgetMs} ms budget (need at least 1 and more than 0).`,
      );
  }

  /** Opens `path` in a worker thread; the reader's reads run there too. */
  async openImage(path: string): Promise<ImageReader> {
    const key = String(this.nextKey++);
    const reply = (await this.request({ op: 'open', key, path }).catch((err: unknown) => {
      this.release(key);
      throw err;
    })) as OpenReply;
    if (reply.meta.channels) return new RemoteChannelReader(this, key, path, reply.meta);
    return reply.jpegTiles ? new RemoteJpegTileReader(this, key, path, reply.meta) : new RemoteReader(this, key, path, reply.meta);
  }

  /** The image layer for AppService (AppHostHooks.formats): opening and reading in this pool; pyramid
   * caches are built by libvips, which never runs on the event loop. */
  formats(): ImageFormats {
    return { openImage: (path) => this.openImage(path), needsPyramidCache, buildPyramidCache };
  }

  /** Thread ids of the live threads (tests: a thread over budget is replaced). */
  threadIds(): number[] {
    return this.threads.map((t) => t.worker.threadId);
  }

  request(req: ReaderRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new DinoscopeError('CANCELLED', `Reading ${req.path} was cancelled: the app is closing.`));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  release(key: string): void {
    for (const t of this.threads) {
      if (t.opened.delete(key)) t.worker.postMessage({ op: 'drop', key } satisfies ToReaderWorker);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cancelled = (p: Pending): void =>
      p.reject(new DinoscopeError('CANCELLED', `Reading ${p.req.path} was cancelled: the app is closing.`));
    this.queue.splice(0).forEach(cancelled);
    const threads = this.threads;
    this.threads = [];
    for (const t of threads) {
      if (t.current) {
        clearTimeout(t.current.timer);
        cancelled(t.current);
      }
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  // ---- internals ----

  /** Hands queued requests to idle ready threads; starts threads (up to size) for the rest. */
  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.threads.filter((t) => t.ready && !t.current);
      if (idle.length === 0) break;
      const next = this.queue[0];
      const thread = idle.find((t) => t.opened.has(next.req.key)) ?? idle[0];
      this.queue.shift();
      this.dispatch(thread, next);
    }
    let starting = this.threads.filter((t) => !t.ready).length;
    while (this.queue.length > starting && this.threads.length < this.size && !this.closed && !this.broken) {
      this.spawn();
      starting++;
    }
  }

  private dispatch(t: Thread, p: Pending): void {
    const id = this.nextId++;
    t.current = { ...p, id, timer: setTimeout(() => this.overBudget(t), this.budgetMs) };
    t.worker.ref();
    t.worker.postMessage({ ...p.req, id } satisfies ToReaderWorker);
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = startWorker();
    } catch (err) {
      this.giveUp(err);
      return;
    }
    const t: Thread = { worker, ready: false, current: null, opened: new Set() };
    this.threads.push(t); // referenced while it starts for a waiting request, unreferenced when idle
    worker.on('message', (msg: FromReaderWorker) => this.onMessage(t, msg));
    worker.on('error', (err) => this.onDeath(t, err));
    worker.on('exit', (code) => this.onDeath(t, new Error(`exit code ${code}`)));
  }

  private onMessage(t: Thread, msg: FromReaderWorker): void {
    if ('ready' in msg) {
      t.ready = true;
      this.startFailures = 0;
      this.pump();
      if (!t.current) t.worker.unref(); // idle threads never keep the process alive
      return;
    }
    const c = t.current;
    if (!c || c.id !== msg.id) return;
    clearTimeout(c.timer);
    t.current = null;
    t.worker.unref();
    t.opened.add(c.req.key); // it may hold the reader even when the request failed
    if ('ok' in msg) c.resolve(msg.ok);
    else c.reject(fromEnvelope(msg.error));
    this.pump();
  }

  private overBudget(t: Thread): void {
    const c = t.current;
    if (!c || !this.threads.includes(t)) return;
    t.current = null;
    this.retire(t);
    const seconds = this.budgetMs >= 10_000 ? `${Math.round(this.budgetMs / 1000)} s` : `${(this.budgetMs / 1000).toFixed(1)} s`;
    c.reject(
      new DinoscopeError(
        'TOO_LARGE',
        `${c.req.path}: reading it took longer than ${seconds}, so it was stopped: the file is damaged or too large to read in one piece. Other images are not affected.`,
      ),
    );
    this.pump();
  }

  private onDeath(t: Thread, err: Error): void {
    if (!this.threads.includes(t)) return; // retired, replaced or closed already
    this.retire(t);
    const c = t.current;
    t.current = null;
    if (c) {
      clearTimeout(c.timer);
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      c.reject(
        oom
          ? new DinoscopeError('TOO_LARGE', `${c.req.path}: reading it needed more memory than an image reader may use, so it was stopped.`)
          : new DinoscopeError('INTERNAL', `${c.req.path}: the image reader stopped unexpectedly (${err.message}).`),
      );
    }
    if (!t.ready && ++this.startFailures >= MAX_START_FAILURES) this.giveUp(err);
    this.pump();
  }

  /** Takes the thread out of the pool and stops it; the next pump starts a replacement when needed. */
  private retire(t: Thread): void {
    this.threads = this.threads.filter((x) => x !== t);
    t.worker.removeAllListeners('message');
    void t.worker.terminate().catch(() => undefined);
  }

  private giveUp(err: unknown): void {
    this.broken = new DinoscopeError(
      'INTERNAL',
      `The image reader threads could not start (${err instanceof Error ? err.message : String(err)}): run \`npm run build\`, or reinstall Dinoscope.`,
    );
    for (const p of this.queue.splice(0)) p.reject(this.broken);
  }
}

// Worker threads that scan the resident rows of a RowSpace in parallel: every worker binds the same shared
// wasm memory and shared scales (no copy, rows resident once), claims pieces of the requested row
// segments one at a time through a shared atomic counter (so a thread the OS leaves waiting does fewer),
// runs the SIMD kernel into its own memory slot and answers with its top-k (merged here) or
// writes scores into a shared output. One worker per core by default (DINOSCOPE_SCAN_THREADS overrides;
// 0 or 1 means "scan on the calling thread", see sharedScanPool).
//
// Worker file: `./scan.worker.js` beside this module's URL — in the CLI bundle dist/cli/scan.worker.js (an
// esbuild entry in scripts/build.mjs). In the source tree (vitest, tsx) only scan.worker.ts exists; it is
// started as an eval worker that registers tsx's ESM loader and imports the .ts file (as
// core/data/train/prefetch.ts does for the crops worker).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DinoscopeError, fromEnvelope } from '../../common/errors.js';
import { startThread } from '../../io/thread.js';
import { quantizeQuery } from './quantize.js';
import { MAX_SLOTS, ROWS_AT, type RowSpace, SLOT_BLOCK } from './rows.js';
import type { FromScanWorker, Segments, ToScanWorker } from './scan-protocol.js';
import { TopK } from './topk.js';

/** A distributive Omit over the request union: a request before the pool gives it an id. */
type Request = ToScanWorker extends infer T ? (T extends ToScanWorker ? Omit<T, 'id'> : never) : never;

interface Thread {
  worker: Worker;
  inflight: number;
  /** Space id → the scales buffer this worker was last given for it. */
  attached: Map<number, SharedArrayBuffer>;
}

/** Pieces a scan is cut into per thread, claimed dynamically (a descheduled thread does fewer). */
const PIECES_PER_THREAD = 8;

function startWorker(url?: URL): Worker {
  return url ? new Worker(url) : startThread('scan.worker.js', 'features/index/scan.worker.ts');
}

/** Split `segments` ([from, n] pairs) into `parts` runs of about equal row counts (some may be empty). */
export function splitSegments(segments: readonly (readonly [number, number])[], parts: number): Segments[] {
  const total = segments.reduce((s, [, n]) => s + n, 0);
  const per = Math.ceil(total / parts);
  const out: number[][] = Array.from({ length: parts }, () => []);
  let p = 0;
  let room = per;
  for (const [from, n] of segments) {
    let f = from;
    let left = n;
    while (left > 0) {
      const take = Math.min(left, room);
      out[p].push(f, take);
      f += take;
      left -= take;
      room -= take;
      if (room === 0 && p < parts - 1) {
        p++;
        room = per;
      }
    }
  }
  return out.map((a) => Uint32Array.from(a));
}

export class ScanPool {
  readonly size: number;
  private readonly threads: Thread[];
  private readonly pending = new Map<number, { resolve: (m: FromScanWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly registered = new Set<number>();
  private readonly finalizer = new FinalizationRegistry<number>((space) => this.detach(space));

  constructor(size = availableParallelism(), workerUrl?: URL) {
    if (size < 1 || size > MAX_SLOTS) throw new DinoscopeError('BAD_INPUT', `scan pool: ${size} threads (1 to ${MAX_SLOTS}).`);
    this.size = size;
    this.threads = Array.from({ length: size }, () => {
      const worker = startWorker(workerUrl);
      worker.unref();
      const t: Thread = { worker, inflight: 0, attached: new Map() };
      worker.on('message', (m: FromScanWorker) => this.settle(t, m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => this.fail(new Error(`scan worker exited with code ${code}`)));
      return t;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(new DinoscopeError('INTERNAL', `scan worker failed: ${e.message}`));
    this.pending.clear();
  }

  private settle(t: Thread, m: FromScanWorker): void {
    if (--t.inflight === 0) t.worker.unref();
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(fromEnvelope(m.error));
    else p.resolve(m);
  }

  private send(t: Thread, req: Request): Promise<FromScanWorker> {
    if (this.failure) return Promise.reject(new DinoscopeError('INTERNAL', `scan pool is broken: ${this.failure.message}`));
    const id = this.nextId++;
    const msg = { ...req, id } as ToScanWorker;
    if (t.inflight++ === 0) t.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      t.worker.postMessage(msg);
    });
  }

  /** Make sure thread t holds `space` with its current scales buffer (messages are handled in order). */
  private attach(t: Thread, space: RowSpace): void {
    const buf = space.scales.buffer as SharedArrayBuffer;
    if (t.attached.get(space.id) === buf) return;
    if (!this.registered.has(space.id)) {
      this.registered.add(space.id);
      this.finalizer.register(space, space.id);
    }
    t.attached.set(space.id, buf);
    void this.send(t, { type: 'attach', space: space.id, memory: space.kern.memory, stride: space.stride, scales: buf }).catch(
      () => undefined,
    );
  }

  private detach(space: number): void {
    this.registered.delete(space);
    for (const t of this.threads) {
      if (!t.attached.delete(space)) continue;
      if (!this.failure) void this.send(t, { type: 'detach', space }).catch(() => undefined);
    }
  }

  private query(space: RowSpace, query: Float32Array): { q: Int16Array; qScale: number } {
    const q = new Int16Array(space.stride);
    const qScale = quantizeQuery(query, space.dim, q, space.stride);
    return { q, qScale };
  }

  /**
   * Send one work-sharing request to every thread (scan-protocol.ts): `pieces` are claimed through a
   * shared counter; resolves with the replies once they account for every piece (a thread that wakes
   * late finds nothing left, and its empty reply is not waited for).
   */
  private share(space: RowSpace, pieces: number, make: (slot: number, counter: SharedArrayBuffer) => Request): Promise<FromScanWorker[]> {
    if (pieces === 0) return Promise.resolve([]);
    const counter = new SharedArrayBuffer(4);
    return new Promise((resolve, reject) => {
      const replies: FromScanWorker[] = [];
      let done = 0;
      this.threads.forEach((t, i) => {
        this.attach(t, space);
        this.send(t, make(i, counter)).then((m) => {
          if (m.type === 'error' || done === pieces) return;
          replies.push(m);
          done += m.pieces;
          if (done === pieces) resolve(replies);
        }, reject);
      });
    });
  }

  /** The k best rows of `segments` of `space` for `query` (normalised here), best first; scores as RowSpace.scan. */
  async topK(
    space: RowSpace,
    query: Float32Array,
    k: number,
    segments: readonly (readonly [number, number])[],
  ): Promise<{ score: number; row: number }[]> {
    const { q, qScale } = this.query(space, query);
    const pieces = splitSegments(segments, this.size * PIECES_PER_THREAD).filter((p) => p.length > 0);
    const replies = await this.share(space, pieces.length, (slot, counter) => ({
      type: 'top',
      space: space.id,
      slot,
      query: q,
      qScale,
      pieces,
      counter,
      k,
    }));
    const top = new TopK(Math.max(1, k));
    for (const r of replies) if (r.type === 'top') r.scores.forEach((s, j) => top.push(s, r.rows[j]));
    return top.sorted().map(({ score, id }) => ({ score, row: id }));
  }

  /** Scores of every row of `segments`, in order, into `dst` (backed by a SharedArrayBuffer). */
  async scores(space: RowSpace, query: Float32Array, segments: readonly (readonly [number, number])[], dst: Float32Array): Promise<void> {
    if (!(dst.buffer instanceof SharedArrayBuffer))
      throw new DinoscopeError('BAD_INPUT', 'scan pool: scores need a SharedArrayBuffer destination.');
    const { q, qScale } = this.query(space, query);
    const pieces = splitSegments(segments, this.size * PIECES_PER_THREAD).filter((p) => p.length > 0);
    const offsets: number[] = [];
    let offset = dst.byteOffset / 4;
    for (const p of pieces) {
      offsets.push(offset);
      for (let s = 1; s < p.length; s += 2) offset += p[s];
    }
    await this.share(space, pieces.length, (slot, counter) => ({
      type: 'scores',
      space: space.id,
      slot,
      query: q,
      qScale,
      pieces,
      offsets,
      counter,
      dst: dst.buffer as SharedArrayBuffer,
    }));
  }

  /** IVF assignment of rows [from, from+n) of `rows` into `list` (shared) across the threads (ivf.ts). */
  async assign(
    rows: RowSpace,
    top: RowSpace,
    leaves: RowSpace,
    nLeaf: number,
    probe: number,
    from: number,
    n: number,
    list: Uint32Array,
  ): Promise<void> {
    if (!(list.buffer instanceof SharedArrayBuffer) || list.byteOffset !== 0)
      throw new DinoscopeError('BAD_INPUT', 'scan pool: assign needs a whole SharedArrayBuffer list.');
    if (top.count > SLOT_BLOCK || nLeaf > SLOT_BLOCK)
      throw new DinoscopeError('BAD_INPUT', `scan pool: at most ${SLOT_BLOCK} centroids per level.`);
    const parts = splitSegments([[from, n]], this.size);
    await Promise.all(
      parts.map((seg, i) => {
        if (seg.length === 0) return null;
        const t = this.threads[i];
        for (const sp of [rows, top, leaves]) this.attach(t, sp);
        return this.send(t, {
          type: 'assign',
          rows: rows.id,
          top: top.id,
          leaves: leaves.id,
          slot: i,
          topCount: top.count,
          nLeaf,
          probe,
          segments: seg,
          list: list.buffer as SharedArrayBuffer,
        });
      }),
    );
  }

  /**
   * Read bandwidth in GB/s with every thread summing its share of rows [0, rows) of `space` at once (the
   * same memory, kernel family and thread count as a scan): bytes ÷ the slowest thread's time, best of `rounds`.
   */
  async readBandwidth(space: RowSpace, rows = space.count, rounds = 3): Promise<number> {
    return Math.max(...(await this.readBandwidthSamples(space, rows, rounds)));
  }

  /** readBandwidth's rounds one by one (GB/s each), for measurements interleaved with scans. */
  async readBandwidthSamples(space: RowSpace, rows = space.count, rounds = 1): Promise<number[]> {
    const bytes = Math.floor((rows * space.stride) / (64 * this.size)) * 64;
    const out: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const replies = await Promise.all(
        this.threads.map((t, i) => {
          this.attach(t, space);
          return this.send(t, { type: 'read', space: space.id, at: ROWS_AT + i * bytes, bytes });
        }),
      );
      const slowest = Math.max(...replies.map((m) => (m.type === 'ok' ? m.seconds : Infinity)));
      out.push((bytes * this.size) / slowest / 1e9);
    }
    return out;
  }

  /**
   * Make every thread ready for `space` (worker started, rows attached, kernel instantiated, scan loop
   * compiled) so the first real query pays none of it: attach and a tiny read on each thread, then one
   * scan of up to a block per thread through the normal path.
   */
  async warm(space: RowSpace): Promise<void> {
    await Promise.all(
      this.threads.map((t) => {
        this.attach(t, space);
        return this.send(t, { type: 'read', space: space.id, at: ROWS_AT, bytes: 64 });
      }),
    );
    const n = Math.min(space.count, SLOT_BLOCK * this.size);
    if (n > 0) await this.scores(space, space.vector(0), [[0, n]], new Float32Array(new SharedArrayBuffer(n * 4)));
  }

  /** Stop the workers (pending requests are rejected). */
  async close(): Promise<void> {
    this.failure ??= new Error('scan pool closed');
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

let shared: ScanPool | null | undefined;

/**
 * The process-wide pool (one thread per core, or DINOSCOPE_SCAN_THREADS), or null when set to 0 or 1, on a
 * single core, or where no worker can be started (callers then scan on their own thread).
 */
export function sharedScanPool(): ScanPool | null {
  if (shared === undefined) {
    const env = process.env.DINOSCOPE_SCAN_THREADS;
    const n = env === undefined || env === '' ? availableParallelism() : Number(env);
    try {
      shared = Number.isInteger(n) && n > 1 ? new ScanPool(Math.min(n, MAX_SLOTS)) : null;
    } catch {
      // No worker script where this module runs (no build beside a bundle): scan on the calling thread.
      shared = null;
    }
  }
  return shared;
}

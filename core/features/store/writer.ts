// Writes a feature store chunk by chunk. Each chunk file is written atomically (temp + rename), so a reader never
// sees half a chunk. Chunks are committed in groups (group commit, as databases do): at commit() — extraction
// commits after every batch of tiles — and by the writer itself every 64 chunks or 1 s (COMMIT_POLICY, in the
// background), the chunk files written since the last commit are fsynced (several at once, then their folders
// once each) and only then does the completion bitmap (progress.json, itself atomic and durable) record them.
// After a crash `resumeFeatureStore` knows which chunks are safely on the disk; one written after the last
// commit is simply written again. A batch of B chunks waits for about four fsyncs in a row instead of 4·B (the
// chunk, its folder, progress.json and its folder, for every chunk).
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { syncFiles, writeFileAtomic, writeFileAtomicLazy } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import { floatToHalf } from '../../common/half.js';
import { arrayMetadata, chunkCounts, groupMetadata, type StoreManifest, type StoreManifestInput } from './manifest.js';

export const chunkPath = (dir: string, cy: number, cx: number): string => join(dir, '0', 'c', '0', String(cy), String(cx));

/** When a writer commits by itself: after `chunks` chunks written since the last commit, or once `ms` have passed
 * since it (checked when a chunk is written). */
export interface CommitPolicy {
  chunks: number;
  ms: number;
}
export const COMMIT_POLICY: Readonly<CommitPolicy> = { chunks: 64, ms: 1000 };

interface Progress {
  ny: number;
  nx: number;
  /** Base64 of a bitmap, bit (cy · nx + cx) set when that chunk is written (or known empty). */
  done: string;
  complete: boolean;
}

export class FeatureStoreWriter {
  readonly dir: string;
  readonly manifest: StoreManifest;
  readonly ny: number;
  readonly nx: number;
  /** Chunks written (or known empty), in memory; progress.json holds those of the last commit. */
  private readonly bits: Uint8Array;
  /** Commits, one after another, so the file on disk only ever moves forward. */
  private queue: Promise<void> = Promise.resolve();
  /** Chunk files written since the last commit, not yet fsynced. */
  private unsynced: string[] = [];
  private lastCommit = performance.now();
  /** Chunks written by this writer that a finished commit has recorded: safe from a crash. */
  committedChunks = 0;
  /** The error of a background commit, thrown by the next write. */
  private failure: unknown = null;
  /** Chunk folders known to exist. */
  private readonly folders = new Set<string>();

  private readonly policy: CommitPolicy;

  constructor(dir: string, manifest: StoreManifest, bits?: Uint8Array, policy: CommitPolicy = COMMIT_POLICY) {
    this.dir = dir;
    this.policy = policy;
    this.manifest = manifest;
    ({ ny: this.ny, nx: this.nx } = chunkCounts(manifest));
    this.bits = bits ?? new Uint8Array(Math.ceil((this.ny * this.nx) / 8));
  }

  /** Records in the manifest that `provider` computes chunks of this store (no write if it already did). */
  async addProvider(provider: string): Promise<void> {
    const known = this.manifest.providers ?? [];
    if (known.includes(provider)) return;
    this.manifest.providers = [...known, provider];
    await writeFileAtomic(join(this.dir, 'zarr.json'), JSON.stringify(groupMetadata(this.manifest), null, 1));
  }

  isDone(cy: number, cx: number): boolean {
    const i = cy * this.nx + cx;
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }

  /** Chunks not yet written, row by row. */
  pending(): [number, number][] {
    const out: [number, number][] = [];
    for (let cy = 0; cy < this.ny; cy++) for (let cx = 0; cx < this.nx; cx++) if (!this.isDone(cy, cx)) out.push([cy, cx]);
    return out;
  }

  get complete(): boolean {
    return this.pending().length === 0;
  }

  /** The patch rectangle chunk (cy, cx) covers, clipped to the grid. */
  chunkRect(cy: number, cx: number): { x: number; y: number; width: number; height: number } {
    const { chunk, gridWidth, gridHeight } = this.manifest;
    const x = cx * chunk.width;
    const y = cy * chunk.height;
    return { x, y, width: Math.min(chunk.width, gridWidth - x), height: Math.min(chunk.height, gridHeight - y) };
  }

  /**
   * Write chunk (cy, cx) from `features`: (h, w, dim) float32, patch-major, where (w, h) is chunkRect's
   * clipped size. Stored channel-first (dim, chunk.height, chunk.width) as float16, zero-padded at edges.
   */
  async writeChunk(cy: number, cx: number, features: Float32Array): Promise<void> {
    const { chunk, dim } = this.manifest;
    const r = this.chunkRect(cy, cx);
    if (this.failure) throw this.failure;
    if (cy < 0 || cx < 0 || cy >= this.ny || cx >= this.nx)
      throw new DinoscopeError('BAD_INPUT', `${this.dir}: chunk (${cy}, ${cx}) is outside the ${this.ny} × ${this.nx} chunk grid.`);
    if (features.length !== r.width * r.height * dim)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${this.dir}: chunk (${cy}, ${cx}) needs ${r.height} × ${r.width} × ${dim} values, got ${features.length}.`,
      );
    const out = new Uint16Array(dim * chunk.height * chunk.width); // (dim, ch, cw)
    const plane = chunk.height * chunk.width;
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const src = (y * r.width + x) * dim; // (h, w, dim) → (dim, ch, cw)
        const dst = y * chunk.width + x;
        for (let c = 0; c < dim; c++) out[c * plane + dst] = floatToHalf(features[src + c]);
      }
    }
    const path = chunkPath(this.dir, cy, cx);
    const folder = dirname(path);
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
    }
    await writeFileAtomicLazy(path, bytesOf(out));
    this.unsynced.push(path);
    this.mark(cy, cx);
    // The writer's own commits go on in the background (their fsyncs overlap the next chunks' compute); a failed
    // one fails the next write or commit().
    if (this.unsynced.length >= this.policy.chunks || performance.now() - this.lastCommit >= this.policy.ms)
      this.commit().catch((e: unknown) => void (this.failure ??= e));
  }

  /** Mark a chunk done without data (all background: readers see zeros and the mask says background). */
  async markEmpty(cy: number, cx: number): Promise<void> {
    this.mark(cy, cx);
    await this.commit();
  }

  /** Mark many chunks done without data at once (one commit): the background of a large slide. */
  async markEmptyMany(cells: readonly [number, number][]): Promise<void> {
    if (cells.length === 0) return;
    for (const [cy, cx] of cells) this.mark(cy, cx);
    await this.commit();
  }

  /**
   * Makes every chunk written so far durable and records it, with the chunks marked empty, in progress.json.
   * Call it when a run of writes ends (done, cancelled or failed): until then a crash loses at most the chunks
   * of the last commit policy's chunks or milliseconds, which a resume writes again.
   */
  commit(): Promise<void> {
    const files = this.unsynced;
    this.unsynced = [];
    this.lastCommit = performance.now();
    const done = this.bits.slice(); // what this commit records: nothing written after it
    const complete = this.complete;
    this.queue = this.queue.then(async () => {
      await syncFiles(files);
      const p: Progress = { ny: this.ny, nx: this.nx, done: Buffer.from(done).toString('base64'), complete };
      await writeFileAtomic(join(this.dir, 'progress.json'), JSON.stringify(p));
      this.committedChunks += files.length;
    });
    return this.queue;
  }

  /** Resolves when the commits started so far (the writer's own included) have finished; starts none. */
  committed(): Promise<void> {
    return this.queue;
  }

  private mark(cy: number, cx: number): void {
    const i = cy * this.nx + cx;
    this.bits[i >> 3] |= 1 << (i & 7);
  }
}

/** Create a store in `dir` (which must not hold one), with an optional (gridHeight, gridWidth) background mask (1 = tissue). */
export async function createFeatureStore(
  dir: string,
  input: StoreManifestInput,
  mask?: Uint8Array,
  policy?: CommitPolicy,
): Promise<FeatureStoreWriter> {
  const m: StoreManifest = { format: 'dinoscope-features', version: 1, dtype: 'float16', ...input };
  if (!(m.gridWidth > 0 && m.gridHeight > 0 && m.dim > 0 && m.chunk.width > 0 && m.chunk.height > 0))
    throw new DinoscopeError('BAD_INPUT', `${dir}: grid, dim and chunk sizes must be positive.`);
  await mkdir(join(dir, '0'), { recursive: true });
  await writeFileAtomic(
    join(dir, '0', 'zarr.json'),
    JSON.stringify(
      arrayMetadata([m.dim, m.gridHeight, m.gridWidth], [m.dim, m.chunk.height, m.chunk.width], 'float16', ['c', 'y', 'x']),
      null,
      1,
    ),
  );
  if (mask) {
    if (mask.length !== m.gridWidth * m.gridHeight)
      throw new DinoscopeError('BAD_INPUT', `${dir}: the mask has ${mask.length} cells for a ${m.gridHeight} × ${m.gridWidth} grid.`);
    await mkdir(join(dir, 'mask', 'c', '0'), { recursive: true });
    await writeFileAtomic(
      join(dir, 'mask', 'zarr.json'),
      JSON.stringify(arrayMetadata([m.gridHeight, m.gridWidth], [m.gridHeight, m.gridWidth], 'uint8', ['y', 'x']), null, 1),
    );
    await writeFileAtomic(join(dir, 'mask', 'c', '0', '0'), mask);
  }
  const w = new FeatureStoreWriter(dir, m, undefined, policy);
  await writeFileAtomic(
    join(dir, 'progress.json'),
    JSON.stringify({
      ny: w.ny,
      nx: w.nx,
      done: Buffer.from(new Uint8Array(Math.ceil((w.ny * w.nx) / 8))).toString('base64'),
      complete: false,
    }),
  );
  // The group metadata last: a store is only recognised once its array and progress exist.
  await writeFileAtomic(join(dir, 'zarr.json'), JSON.stringify(groupMetadata(m), null, 1));
  return w;
}

/** Reopen a partly written store to finish it (after a crash or a cancel). */
export async function resumeFeatureStore(dir: string, policy?: CommitPolicy): Promise<FeatureStoreWriter> {
  const m = await readManifest(dir);
  const p = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8')) as Progress;
  return new FeatureStoreWriter(dir, m, new Uint8Array(Buffer.from(p.done, 'base64')), policy);
}

export async function readManifest(dir: string): Promise<StoreManifest> {
  const path = join(dir, 'zarr.json');
  let g: { attributes?: { dinoscope?: StoreManifest } };
  try {
    g = JSON.parse(await readFile(path, 'utf8')) as typeof g;
  } catch (e) {
    throw new DinoscopeError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'CORRUPT',
      `${path}: not a readable feature store (${(e as Error).message}).`,
    );
  }
  const m = g.attributes?.dinoscope;
  if (!m || m.format !== 'dinoscope-features')
    throw new DinoscopeError('UNSUPPORTED', `${path}: a Zarr group without a dinoscope feature manifest.`);
  if (m.version !== 1)
    throw new DinoscopeError('UNSUPPORTED', `${path}: feature store version ${m.version} is newer than this program reads.`);
  return m;
}

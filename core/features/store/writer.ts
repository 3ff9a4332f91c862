// Writes a feature store chunk by chunk. Each chunk file is written atomically (temp + rename), then the
// completion bitmap (progress.json) is rewritten atomically, so after a crash `resumeFeatureStore` knows
// exactly which chunks remain; a chunk written but not yet marked is simply written again.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import { floatToHalf } from '../../common/half.js';
import { arrayMetadata, chunkCounts, groupMetadata, type StoreManifest, type StoreManifestInput } from './manifest.js';

export const chunkPath = (dir: string, cy: number, cx: number): string => join(dir, '0', 'c', '0', String(cy), String(cx));

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
  private readonly bits: Uint8Array;
  private queue: Promise<void> = Promise.resolve();

  constructor(dir: string, manifest: StoreManifest, bits?: Uint8Array) {
    this.dir = dir;
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
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytesOf(out));
    await this.mark(cy, cx);
  }

  /** Mark a chunk done without data (all background: readers see zeros and the mask says background). */
  async markEmpty(cy: number, cx: number): Promise<void> {
    await this.mark(cy, cx);
  }

  /** Mark many chunks done without data at once (one progress write): the background of a large slide. */
  async markEmptyMany(cells: readonly [number, number][]): Promise<void> {
    if (cells.length === 0) return;
    for (const [cy, cx] of cells) {
      const i = cy * this.nx + cx;
      this.bits[i >> 3] |= 1 << (i & 7);
    }
    this.queue = this.queue.then(() => this.saveProgress());
    return this.queue;
  }

  private mark(cy: number, cx: number): Promise<void> {
    const i = cy * this.nx + cx;
    this.bits[i >> 3] |= 1 << (i & 7);
    // Serialise progress writes so the file on disk only ever moves forward.
    this.queue = this.queue.then(() => this.saveProgress());
    return this.queue;
  }

  private async saveProgress(): Promise<void> {
    const p: Progress = { ny: this.ny, nx: this.nx, done: Buffer.from(this.bits).toString('base64'), complete: this.complete };
    await writeFileAtomic(join(this.dir, 'progress.json'), JSON.stringify(p));
  }
}

/** Create a store in `dir` (which must not hold one), with an optional (gridHeight, gridWidth) background mask (1 = tissue). */
export async function createFeatureStore(dir: string, input: StoreManifestInput, mask?: Uint8Array): Promise<FeatureStoreWriter> {
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
  const w = new FeatureStoreWriter(dir, m);
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
export async function resumeFeatureStore(dir: string): Promise<FeatureStoreWriter> {
  const m = await readManifest(dir);
  const p = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8')) as Progress;
  return new FeatureStoreWriter(dir, m, new Uint8Array(Buffer.from(p.done, 'base64')));
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

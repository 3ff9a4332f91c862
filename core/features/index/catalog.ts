// What every search index of a feature set knows about its rows without their vectors: the manifest
// (images and their row ranges, chunk files; FORMAT in ../store/FORMAT.md), and per row its image and
// patch-grid position. The in-memory index (exact.ts) keeps the int8 rows beside it in a wasm memory; the
// LanceDB-backed one (lance-index.ts) keeps only this (12 bytes a row with the scales) and reads rows from
// the chunk files on demand.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { TopK } from './topk.js';

export interface IndexImage {
  id: string;
  gridWidth: number;
  gridHeight: number;
  /** Row ranges [start, count] holding this image's patches. */
  ranges: [number, number][];
}

export interface IndexManifest {
  format: 'dinoscope-index';
  version: 1;
  dim: number;
  stride: number;
  dtype: 'int8';
  chunkRows: number;
  rows: number;
  /** Rows per chunk file, in order; every chunk but the last is full. */
  chunks: number[];
  images: IndexImage[];
}

export interface Hit {
  row: number;
  image: string;
  /** Patch-grid position in the image. */
  x: number;
  y: number;
  score: number;
}

export const META_BYTES = 12; // float32 scale, uint32 image, uint32 position
export const chunkName = (i: number, ext: string): string => `chunk-${String(i).padStart(6, '0')}.${ext}`;

/** The index manifest in `dir`, checked. */
export async function readIndexManifest(dir: string): Promise<IndexManifest> {
  return (await readIndexManifestFile(dir)).manifest;
}

/** The index manifest in `dir`, checked, and the bytes it was parsed from (read once: a build digests the same
 * bytes it indexes, build-resume.ts). */
export async function readIndexManifestFile(dir: string): Promise<{ manifest: IndexManifest; bytes: Buffer }> {
  const path = join(dir, 'manifest.json');
  let m: IndexManifest;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
    m = JSON.parse(bytes.toString('utf8')) as IndexManifest;
  } catch (e) {
    throw new DinoscopeError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'CORRUPT',
      `${path}: not a readable index manifest (${(e as Error).message}).`,
    );
  }
  if (m.format !== 'dinoscope-index' || m.version !== 1)
    throw new DinoscopeError('UNSUPPORTED', `${path}: not a version 1 dinoscope index.`);
  return { manifest: m, bytes };
}

/** Reads the first n bytes of a chunk file into dst. */
export async function readExactly(path: string, dst: Uint8Array, n: number): Promise<void> {
  const fh = await open(path, 'r').catch((e: Error) => {
    throw new DinoscopeError('CORRUPT', `${path}: index chunk missing (${e.message}).`);
  });
  try {
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(dst, got, n - got, got);
      if (bytesRead === 0) throw new DinoscopeError('CORRUPT', `${path}: index chunk truncated at ${got} of ${n} bytes.`);
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

export class IndexCatalog {
  readonly dir: string;
  manifest: IndexManifest;
  imageOf = new Uint32Array(1024);
  positionOf = new Uint32Array(1024);
  protected byId = new Map<string, number>();
  protected lookups = new Map<number, Int32Array>();

  protected constructor(dir: string, manifest: IndexManifest) {
    this.dir = dir;
    this.manifest = manifest;
    manifest.images.forEach((im, i) => this.byId.set(im.id, i));
  }

  get dim(): number {
    return this.manifest.dim;
  }

  get size(): number {
    return this.manifest.rows;
  }

  protected reserveMeta(n: number): void {
    if (n <= this.imageOf.length) return;
    const cap = Math.max(n, this.imageOf.length * 2);
    const a = new Uint32Array(cap);
    a.set(this.imageOf);
    this.imageOf = a;
    const b = new Uint32Array(cap);
    b.set(this.positionOf);
    this.positionOf = b;
  }

  /**
   * Reads chunk c's meta file (its n rows' scales, images and positions) into rows [base, base + n);
   * returns the scales. `meta` is a reusable buffer of at least n · META_BYTES.
   */
  protected async readMetaChunk(c: number, base: number, meta: Uint8Array): Promise<Float32Array> {
    const n = this.manifest.chunks[c];
    await readExactly(join(this.dir, chunkName(c, 'meta')), meta, n * META_BYTES);
    const dv = new DataView(meta.buffer, meta.byteOffset, n * META_BYTES);
    const scales = new Float32Array(n);
    this.reserveMeta(base + n);
    for (let i = 0; i < n; i++) {
      scales[i] = dv.getFloat32(i * META_BYTES, true);
      this.imageOf[base + i] = dv.getUint32(i * META_BYTES + 4, true);
      this.positionOf[base + i] = dv.getUint32(i * META_BYTES + 8, true);
    }
    return scales;
  }

  /** The image entry for `id`, or undefined. */
  image(id: string): IndexImage | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.manifest.images[i];
  }

  /** The image's number in the manifest (the image column of the meta files), or undefined. */
  imageNumber(id: string): number | undefined {
    return this.byId.get(id);
  }

  /** The hit record of row r with `score`. */
  hit(row: number, score: number): Hit {
    const im = this.manifest.images[this.imageOf[row]];
    const p = this.positionOf[row];
    return { row, image: im.id, x: p % im.gridWidth, y: Math.floor(p / im.gridWidth), score };
  }

  /** The k best patches of one image from its heatmap (the scores heatmap() returned), best first. */
  topOfHeatmap(imageId: string, scores: Float32Array, k: number): Hit[] {
    const lookup = this.lookup(imageId); // grid position → row
    const top = new TopK(Math.max(1, k));
    for (let p = 0; p < scores.length; p++) {
      const s = scores[p];
      if (s > top.threshold) top.push(s, p); // NaN (no patch) never passes
    }
    return top.sorted().map(({ id, score }) => this.hit(lookup[id], score));
  }

  /** grid position → row for one image (−1 where the image has no patch, e.g. background). */
  lookup(imageId: string): Int32Array {
    const ii = this.byId.get(imageId);
    if (ii === undefined) throw new DinoscopeError('NOT_FOUND', `index: no image ${imageId}.`);
    let l = this.lookups.get(ii);
    if (!l) {
      const im = this.manifest.images[ii];
      l = new Int32Array(im.gridWidth * im.gridHeight).fill(-1);
      for (const [s, n] of im.ranges) for (let r = s; r < s + n; r++) l[this.positionOf[r]] = r;
      this.lookups.set(ii, l);
    }
    return l;
  }

  /** Scatters one image's scores, given in its range order, onto its grid (NaN where it has no patch). */
  protected scatter(im: IndexImage, scores: Float32Array): Float32Array {
    const out = new Float32Array(im.gridWidth * im.gridHeight).fill(NaN); // (gridHeight, gridWidth)
    const pos = this.positionOf;
    let o = 0;
    for (const [s, c] of im.ranges) {
      for (let i = 0; i < c; i++) out[pos[s + i]] = scores[o + i];
      o += c;
    }
    return out;
  }
}

/** The catalog with every row's scale, read from the meta files alone (the rows stay on disk). */
export class StoredCatalog extends IndexCatalog {
  scales = new Float32Array(0);

  static async open(dir: string): Promise<StoredCatalog> {
    const c = new StoredCatalog(dir, await readIndexManifest(dir));
    await c.readCatalog();
    return c;
  }

  /** Reads every meta file (12 bytes a row: scale, image, position). */
  protected async readCatalog(): Promise<void> {
    const m = this.manifest;
    this.scales = new Float32Array(m.rows);
    const meta = new Uint8Array(m.chunkRows * META_BYTES);
    let base = 0;
    for (let c = 0; c < m.chunks.length; c++) {
      this.scales.set(await this.readMetaChunk(c, base, meta), base);
      base += m.chunks[c];
    }
  }
}

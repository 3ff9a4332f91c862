// Exact cosine search over every patch of a collection. Rows are L2-normalised int8 with a per-row scale
// (quantize.ts), appended in chunks of `chunkRows` (append-only files + manifest, FORMAT in ../store/FORMAT.md).
// Resident: on open every chunk is read (FileHandle.read into one reused buffer) into a wasm memory and
// stays there, so a query scans RAM only (about 1.9 GB for 5 M × 384). Scoring is the SIMD kernel.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import { type ScanPool, sharedScanPool } from './pool.js';
import { RowSpace } from './rows.js';
import type { SearchIndex } from './search-index.js';
import { TopK } from './topk.js';
import { chunkName, type Hit, IndexCatalog, type IndexManifest, META_BYTES, readExactly, readIndexManifest } from './catalog.js';

export type { Hit, IndexImage, IndexManifest } from './catalog.js';

export interface AppendBatch {
  image: string;
  gridWidth: number;
  gridHeight: number;
  /** Patch positions as y · gridWidth + x, one per vector. */
  positions: Uint32Array;
  /** positions.length × dim float32 features (normalised here). */
  vectors: Float32Array;
}

export class ExactIndex extends IndexCatalog implements SearchIndex {
  readonly store = 'memory';
  readonly rowsSpace: RowSpace;

  private constructor(dir: string, manifest: IndexManifest) {
    super(dir, manifest);
    this.rowsSpace = new RowSpace(manifest.dim);
  }

  /** A new empty index in `dir` (created). */
  static async create(dir: string, dim: number, chunkRows = 65536): Promise<ExactIndex> {
    await mkdir(dir, { recursive: true });
    const m: IndexManifest = {
      format: 'dinoscope-index',
      version: 1,
      dim,
      stride: 0,
      dtype: 'int8',
      chunkRows,
      rows: 0,
      chunks: [],
      images: [],
    };
    const idx = new ExactIndex(dir, m);
    m.stride = idx.rowsSpace.stride;
    await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(m, null, 1));
    return idx;
  }

  /** Open an index, reading every chunk into memory. */
  static async open(dir: string): Promise<ExactIndex> {
    const m = await readIndexManifest(dir);
    const idx = new ExactIndex(dir, m);
    const s = idx.rowsSpace.stride;
    const buf = new Int8Array(m.chunkRows * s);
    const meta = new Uint8Array(m.chunkRows * META_BYTES);
    for (let c = 0; c < m.chunks.length; c++) {
      const n = m.chunks[c];
      await readExactly(join(dir, chunkName(c, 'i8')), bytesOf(buf), n * s);
      const scales = await idx.readMetaChunk(c, idx.rowsSpace.count, meta);
      idx.rowsSpace.addQuantized(buf, scales, n);
    }
    return idx;
  }

  /** Append one image's patches (or more of them); the chunks it touches and the manifest are rewritten atomically. */
  async append(batch: AppendBatch): Promise<void> {
    const m = this.manifest;
    const n = batch.positions.length;
    if (batch.vectors.length !== n * m.dim)
      throw new DinoscopeError('BAD_INPUT', `index append: ${batch.vectors.length} values for ${n} positions of ${m.dim} dims.`);
    let ii = this.byId.get(batch.image);
    if (ii === undefined) {
      ii = m.images.length;
      m.images.push({ id: batch.image, gridWidth: batch.gridWidth, gridHeight: batch.gridHeight, ranges: [] });
      this.byId.set(batch.image, ii);
    }
    const im = m.images[ii];
    const first = this.rowsSpace.addFloat(batch.vectors, n);
    this.reserveMeta(first + n);
    this.imageOf.fill(ii, first, first + n);
    this.positionOf.set(batch.positions, first);
    const last = im.ranges[im.ranges.length - 1];
    if (last && last[0] + last[1] === first) last[1] += n;
    else im.ranges.push([first, n]);
    this.lookups.delete(ii);
    m.rows = first + n;
    // Rewrite the chunks rows [first, first+n) touch (the partial last chunk is rewritten whole).
    const c0 = Math.floor(first / m.chunkRows);
    const c1 = Math.floor((m.rows - 1) / m.chunkRows);
    for (let c = c0; c <= c1; c++) await this.writeChunk(c);
    m.chunks = [];
    for (let r = 0; r < m.rows; r += m.chunkRows) m.chunks.push(Math.min(m.chunkRows, m.rows - r));
    await writeFileAtomic(join(this.dir, 'manifest.json'), JSON.stringify(m, null, 1));
  }

  private async writeChunk(c: number): Promise<void> {
    const m = this.manifest;
    const start = c * m.chunkRows;
    const n = Math.min(m.chunkRows, m.rows - start);
    await writeFileAtomic(join(this.dir, chunkName(c, 'i8')), bytesOf(this.rowsSpace.rowsView(start, n)));
    const meta = new DataView(new ArrayBuffer(n * META_BYTES));
    for (let i = 0; i < n; i++) {
      meta.setFloat32(i * META_BYTES, this.rowsSpace.scales[start + i], true);
      meta.setUint32(i * META_BYTES + 4, this.imageOf[start + i], true);
      meta.setUint32(i * META_BYTES + 8, this.positionOf[start + i], true);
    }
    await writeFileAtomic(join(this.dir, chunkName(c, 'meta')), new Uint8Array(meta.buffer));
  }

  /** The k rows most similar to `query` by cosine (exact over the quantised rows), best first. */
  search(query: Float32Array, k: number): Hit[] {
    const top = new TopK(Math.max(1, Math.min(k, this.size)));
    if (this.size === 0) return [];
    const qs = this.rowsSpace.setQuery(query);
    this.rowsSpace.scanTop(qs, 0, this.size, top);
    return top.sorted().map(({ id, score }) => this.hit(id, score));
  }

  /**
   * search() across worker threads (pool.ts): each scans a share of the rows, the top-k are merged. Same
   * answers as search(); runs on the calling thread when there is no pool (one core, or threads set to 1).
   */
  async searchAsync(query: Float32Array, k: number, pool: ScanPool | null = sharedScanPool()): Promise<Hit[]> {
    if (!pool || this.size === 0) return this.search(query, k);
    const top = await pool.topK(this.rowsSpace, query, Math.max(1, Math.min(k, this.size)), [[0, this.size]]);
    return top.map(({ row, score }) => this.hit(row, score));
  }

  /**
   * The k best rows outside image `imageId` (searchAsync over the other rows only): with that image's
   * heatmap, which scores its own rows, a click scans every row once instead of the image twice.
   */
  async searchOthersAsync(query: Float32Array, k: number, imageId: string, pool: ScanPool | null = sharedScanPool()): Promise<Hit[]> {
    const own = [...(this.image(imageId)?.ranges ?? [])].sort((a, b) => a[0] - b[0]);
    const segments: [number, number][] = []; // [from, n] of the rows between the image's ranges
    let at = 0;
    for (const [s, c] of [...own, [this.size, 0] as [number, number]]) {
      if (s > at) segments.push([at, s - at]);
      at = Math.max(at, s + c);
    }
    const kk = Math.max(1, Math.min(k, this.size));
    if (segments.length === 0) return [];
    if (pool) return (await pool.topK(this.rowsSpace, query, kk, segments)).map(({ row, score }) => this.hit(row, score));
    const top = new TopK(kk);
    const qs = this.rowsSpace.setQuery(query);
    for (const [from, n] of segments) this.rowsSpace.scanTop(qs, from, n, top);
    return top.sorted().map(({ id, score }) => this.hit(id, score));
  }

  /** heatmap() across worker threads (pool.ts); same values. */
  async heatmapAsync(imageId: string, query: Float32Array, pool: ScanPool | null = sharedScanPool()): Promise<Float32Array> {
    const im = this.image(imageId);
    if (!im) throw new DinoscopeError('NOT_FOUND', `index: no image ${imageId}.`);
    if (!pool) return this.heatmap(imageId, query);
    const n = im.ranges.reduce((s, [, c]) => s + c, 0);
    const scores = new Float32Array(new SharedArrayBuffer(Math.max(1, n) * 4)); // (n,) in range order
    await pool.scores(this.rowsSpace, query, im.ranges, scores);
    return this.scatter(im, scores);
  }

  /** Start the scan threads and prepare them for this index (ScanPool.warm); a no-op without a pool. */
  async warm(pool: ScanPool | null = sharedScanPool()): Promise<void> {
    if (pool && this.size > 0) await pool.warm(this.rowsSpace);
  }

  /** Row r's stored vector, dequantised (unit length up to quantisation error). */
  vector(row: number, dst?: Float32Array): Float32Array {
    return this.rowsSpace.vector(row, dst);
  }

  /** The stored (dequantised, unit) vector of patch (x, y) of an image, or null where it has none. */
  vectorAt(imageId: string, x: number, y: number): Float32Array | null {
    const im = this.image(imageId);
    if (!im || x < 0 || y < 0 || x >= im.gridWidth || y >= im.gridHeight) return null;
    const r = this.lookup(imageId)[y * im.gridWidth + x];
    return r < 0 ? null : this.rowsSpace.vector(r);
  }

  /**
   * Cosine of `query` to every patch of one image as a gridHeight × gridWidth map (row-major), NaN where
   * the image has no patch.
   */
  heatmap(imageId: string, query: Float32Array): Float32Array {
    const im = this.image(imageId);
    if (!im) throw new DinoscopeError('NOT_FOUND', `index: no image ${imageId}.`);
    const out = new Float32Array(im.gridWidth * im.gridHeight).fill(NaN);
    const qs = this.rowsSpace.setQuery(query);
    const pos = this.positionOf;
    for (const [s, n] of im.ranges) {
      const tmp = new Float32Array(n);
      this.rowsSpace.scanInto(qs, s, n, tmp);
      for (let i = 0; i < n; i++) out[pos[s + i]] = tmp[i];
    }
    return out;
  }
}

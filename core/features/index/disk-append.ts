// Appends rows to a search index on disk without holding the index in memory: the same files, bytes and
// crash behaviour as ExactIndex.append (FORMAT in ../store/FORMAT.md), but resident is only the chunk being
// filled (chunkRows × stride int8 rows and their 12-byte meta, 26 MB for 65 536 rows of 384 dims) and the
// manifest. Extraction and `dinoscope index` build a set's index through it, so a set past the in-memory
// index's room (the wasm32 memory: about 9 M rows of 384 dims) can be built, then searched from LanceDB.
// Each append rewrites the chunks it touches (atomically, a full chunk once it is full) and then the
// manifest, so after a crash the manifest names only rows whose chunks are on disk.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import { chunkName, type IndexImage, type IndexManifest, META_BYTES, readExactly, readIndexManifest } from './catalog.js';
import type { AppendBatch } from './exact.js';
import { quantizeRow } from './quantize.js';
import { strideFor } from './rows.js';

/** What building an index needs of one: its images so far, and appending. ExactIndex is one too. */
export interface IndexAppender {
  readonly size: number;
  image(id: string): IndexImage | undefined;
  append(batch: AppendBatch): Promise<void>;
}

export class DiskIndexWriter implements IndexAppender {
  private readonly byId = new Map<string, number>();
  /** The chunk being filled: rows [chunk · chunkRows, rows) of the index. */
  private readonly rows: Int8Array;
  private readonly meta: DataView;

  private constructor(
    readonly dir: string,
    readonly manifest: IndexManifest,
  ) {
    manifest.images.forEach((im, i) => this.byId.set(im.id, i));
    this.rows = new Int8Array(manifest.chunkRows * manifest.stride);
    this.meta = new DataView(new ArrayBuffer(manifest.chunkRows * META_BYTES));
  }

  /** A new empty index in `dir` (created), as ExactIndex.create writes it. */
  static async create(dir: string, dim: number, chunkRows = 65536): Promise<DiskIndexWriter> {
    await mkdir(dir, { recursive: true });
    const m: IndexManifest = {
      format: 'dinoscope-index',
      version: 1,
      dim,
      stride: strideFor(dim),
      dtype: 'int8',
      chunkRows,
      rows: 0,
      chunks: [],
      images: [],
    };
    await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(m, null, 1));
    return new DiskIndexWriter(dir, m);
  }

  /** The index in `dir`, to append to: reads its manifest and its partly filled last chunk only. */
  static async open(dir: string): Promise<DiskIndexWriter> {
    const m = await readIndexManifest(dir);
    if (m.stride !== strideFor(m.dim)) throw new DinoscopeError('CORRUPT', `${dir}: index stride ${m.stride} does not fit ${m.dim} dims.`);
    const w = new DiskIndexWriter(dir, m);
    const c = Math.floor(m.rows / m.chunkRows);
    const n = m.rows - c * m.chunkRows;
    if (n > 0) {
      await readExactly(join(dir, chunkName(c, 'i8')), bytesOf(w.rows), n * m.stride);
      await readExactly(join(dir, chunkName(c, 'meta')), new Uint8Array(w.meta.buffer), n * META_BYTES);
    }
    return w;
  }

  get size(): number {
    return this.manifest.rows;
  }

  get dim(): number {
    return this.manifest.dim;
  }

  image(id: string): IndexImage | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.manifest.images[i];
  }

  /** Append one image's patches (or more of them); the chunks they touch and the manifest are rewritten atomically. */
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
    const first = m.rows;
    for (let i = 0; i < n; i++) {
      const r = first + i;
      const at = r % m.chunkRows;
      const scale = quantizeRow(batch.vectors, i * m.dim, m.dim, this.rows, at * m.stride, m.stride);
      this.meta.setFloat32(at * META_BYTES, scale, true);
      this.meta.setUint32(at * META_BYTES + 4, ii, true);
      this.meta.setUint32(at * META_BYTES + 8, batch.positions[i], true);
      if (at === m.chunkRows - 1) await this.writeChunk(Math.floor(r / m.chunkRows), m.chunkRows); // full
    }
    const end = first + n;
    if (n > 0 && end % m.chunkRows !== 0) await this.writeChunk(Math.floor(end / m.chunkRows), end % m.chunkRows); // partial
    const im = m.images[ii];
    const last = im.ranges[im.ranges.length - 1];
    if (n > 0) {
      if (last && last[0] + last[1] === first) last[1] += n;
      else im.ranges.push([first, n]);
    }
    m.rows = end;
    m.chunks = [];
    for (let r = 0; r < m.rows; r += m.chunkRows) m.chunks.push(Math.min(m.chunkRows, m.rows - r));
    await writeFileAtomic(join(this.dir, 'manifest.json'), JSON.stringify(m, null, 1));
  }

  /** Writes chunk c from the buffer: its first `n` rows. */
  private async writeChunk(c: number, n: number): Promise<void> {
    const m = this.manifest;
    await writeFileAtomic(join(this.dir, chunkName(c, 'i8')), bytesOf(this.rows.subarray(0, n * m.stride)));
    await writeFileAtomic(join(this.dir, chunkName(c, 'meta')), new Uint8Array(this.meta.buffer, 0, n * META_BYTES));
  }
}

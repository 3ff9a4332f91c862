// Approximate search: an inverted file (IVF-flat) over the exact index's int8 rows. A two-level spherical
// k-means coarse quantiser (`top` × `leaf` lists, e.g. 32 × 32 = 1024) partitions the rows; each list's rows
// are copied contiguously into their own wasm memory, so a query scores all leaf centroids, then scans only
// the `nprobe` nearest lists with the same SIMD kernel as the exact scan. Scores equal the exact index's
// (same quantised rows), so recall@k against exact measures probing alone.
// Two levels keep the build linear: each row is compared with the top centroids and the leaves of its
// `assignProbe` best top clusters (32 + 3 · 32), not all 1024. Probing several top clusters matters: a top
// centroid averages many true clusters, so its score for a single row is noisy, and routing every row
// through the one best top cluster scatters a true cluster's rows over unrelated lists (the recall loss
// seen with assignProbe 1).
// Growth: rows added after the build go to an unpartitioned tail that every query scans; rebuild when the
// tail is large (tailFraction()).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import { kmeans } from '../kmeans.js';
import { mulberry32 as rng } from '../../common/random.js';
import { sampleIndices } from '../random.js';
import type { ExactIndex, Hit } from './exact.js';
import { type ScanPool, sharedScanPool } from './pool.js';
import { RowSpace } from './rows.js';
import { TopK } from './topk.js';

export interface IvfOptions {
  top?: number;
  leaf?: number;
  /** Rows sampled to train the coarse quantiser. */
  sample?: number;
  /** Top clusters whose leaves each row is compared with when assigned (default 3). */
  assignProbe?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export class IvfIndex {
  readonly exact: ExactIndex;
  readonly nlist: number;
  /** nlist leaf centroids as rows (scored with the kernel). */
  readonly centroids: RowSpace;
  /** Top centroid rows first (top), then leaves grouped by top (top × leaf). */
  private readonly top: RowSpace;
  private readonly leafPerTop: number;
  /** Rows reordered by list; listStart has nlist + 1 offsets; ids maps a list row to the exact row. */
  readonly lists: RowSpace;
  readonly listStart: Uint32Array;
  readonly ids: Uint32Array;
  /** Exact rows [builtRows, exact.size) are the unpartitioned tail. */
  builtRows: number;

  private constructor(
    exact: ExactIndex,
    top: RowSpace,
    centroids: RowSpace,
    leafPerTop: number,
    lists: RowSpace,
    listStart: Uint32Array,
    ids: Uint32Array,
    builtRows: number,
  ) {
    this.exact = exact;
    this.top = top;
    this.centroids = centroids;
    this.leafPerTop = leafPerTop;
    this.nlist = centroids.count;
    this.lists = lists;
    this.listStart = listStart;
    this.ids = ids;
    this.builtRows = builtRows;
  }

  /** Train the two-level quantiser on a sample of the rows. */
  private static train(exact: ExactIndex, opts: IvfOptions): { top: RowSpace; centroids: RowSpace; nLeaf: number } {
    const d = exact.dim;
    const n = exact.size;
    const nTop = opts.top ?? 32;
    const nLeaf = opts.leaf ?? 32;
    const u = rng(opts.seed ?? 1);
    const rows = exact.rowsSpace;
    // Train on a sample: (m, d) float32 rows.
    const pick = sampleIndices(n, Math.min(n, opts.sample ?? 65536), u);
    const m = pick.length;
    const sample = new Float32Array(m * d);
    for (let i = 0; i < m; i++) rows.vector(pick[i], sample.subarray(i * d, i * d + d));
    // The top level needs few samples (32 centres); the leaves get every sample of their top cluster.
    const mTop = Math.min(m, 16384);
    const tModel = kmeans(sample, mTop, d, { k: Math.min(nTop, m), spherical: true, seed: opts.seed ?? 1, iterations: 10 });
    const top = new RowSpace(d);
    top.addFloat(tModel.centroids, tModel.k);
    const centroids = new RowSpace(d);
    const sampleTop = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      top.setQueryRow(rows, pick[i]);
      sampleTop[i] = top.argmax(0, top.count);
    }
    for (let t = 0; t < tModel.k; t++) {
      // (mt, d) sample rows of top cluster t
      const members = [...sampleTop.keys()].filter((i) => sampleTop[i] === t);
      const sub = new Float32Array(Math.max(1, members.length) * d);
      members.forEach((i, j) => sub.set(sample.subarray(i * d, i * d + d), j * d));
      if (members.length === 0) sub.set(tModel.centroids.subarray(t * d, t * d + d));
      const k = Math.max(1, Math.min(nLeaf, members.length));
      const lm = kmeans(sub, Math.max(1, members.length), d, { k, spherical: true, seed: (opts.seed ?? 1) + t + 1, iterations: 12 });
      // Pad to nLeaf leaves per top (repeat the last) so leaf ids are t · nLeaf + j.
      for (let j = 0; j < nLeaf; j++) centroids.addFloat(lm.centroids.subarray(Math.min(j, k - 1) * d, Math.min(j, k - 1) * d + d), 1);
    }
    return { top, centroids, nLeaf };
  }

  /** Build over every row of `exact` on the calling thread. */
  static build(exact: ExactIndex, opts: IvfOptions = {}): IvfIndex {
    const { top, centroids, nLeaf } = IvfIndex.train(exact, opts);
    const n = exact.size;
    const rows = exact.rowsSpace;
    // Assign every row: the best leaf under its assignProbe nearest top centroids.
    const list = new Uint32Array(n);
    const probe = Math.max(1, Math.min(opts.assignProbe ?? 3, top.count));
    const tops = new TopK(probe);
    const best = new TopK(1);
    for (let r = 0; r < n; r++) {
      const qs = top.setQueryRow(rows, r);
      tops.size = 0;
      top.scanTop(qs, 0, top.count, tops);
      centroids.setQueryRow(rows, r);
      best.size = 0;
      for (let i = 0; i < tops.size; i++) centroids.scanTop(qs, tops.ids[i] * nLeaf, nLeaf, best);
      list[r] = best.ids[0];
      if (opts.onProgress && r % 65536 === 0) opts.onProgress(r, n);
    }
    return IvfIndex.finish(exact, top, centroids, nLeaf, list);
  }

  /** build() with the assignment (the costly part: every row against top + probe · leaf centroids) across the pool's threads. */
  static async buildAsync(exact: ExactIndex, opts: IvfOptions = {}, pool: ScanPool | null = sharedScanPool()): Promise<IvfIndex> {
    if (!pool) return IvfIndex.build(exact, opts);
    const { top, centroids, nLeaf } = IvfIndex.train(exact, opts);
    const n = exact.size;
    const list = new Uint32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
    const probe = Math.max(1, Math.min(opts.assignProbe ?? 3, top.count));
    const step = 1 << 18;
    for (let r = 0; r < n; r += step) {
      await pool.assign(exact.rowsSpace, top, centroids, nLeaf, probe, r, Math.min(step, n - r), list);
      opts.onProgress?.(r, n);
    }
    return IvfIndex.finish(exact, top, centroids, nLeaf, list.subarray(0, n));
  }

  private static finish(exact: ExactIndex, top: RowSpace, centroids: RowSpace, nLeaf: number, list: Uint32Array): IvfIndex {
    const n = exact.size;
    const counts = new Uint32Array(centroids.count + 1);
    for (let r = 0; r < n; r++) counts[list[r] + 1]++;
    const listStart = new Uint32Array(centroids.count + 1);
    for (let i = 0; i < centroids.count; i++) listStart[i + 1] = listStart[i] + counts[i + 1];
    const fill = listStart.slice(0, centroids.count);
    const ids = new Uint32Array(n);
    for (let r = 0; r < n; r++) ids[fill[list[r]]++] = r;
    const lists = copyRows(exact.rowsSpace, ids);
    return new IvfIndex(exact, top, centroids, nLeaf, lists, listStart, ids, n);
  }

  /** Share of the exact index's rows not yet partitioned (scanned exhaustively by every query). */
  tailFraction(): number {
    return this.exact.size === 0 ? 0 : (this.exact.size - this.builtRows) / this.exact.size;
  }

  /** Approximately the k rows most similar to `query`: the nprobe nearest lists plus the tail. */
  search(query: Float32Array, k: number, nprobe = 32): Hit[] {
    const cq = this.centroids.setQuery(query);
    const probe = new TopK(Math.min(nprobe, this.nlist));
    this.centroids.scanTop(cq, 0, this.nlist, probe);
    const top = new TopK(Math.max(1, k));
    const qs = this.lists.setQuery(query);
    const ids = this.ids;
    for (const { id: l } of probe.sorted()) {
      const s = this.listStart[l];
      this.lists.scanTop(qs, s, this.listStart[l + 1] - s, top, (row) => ids[row]);
    }
    const tail = this.exact.size - this.builtRows;
    if (tail > 0) {
      const eq = this.exact.rowsSpace.setQuery(query);
      this.exact.rowsSpace.scanTop(eq, this.builtRows, tail, top);
    }
    return top.sorted().map(({ id, score }) => this.exact.hit(id, score));
  }

  /** search() with the probed lists scanned across worker threads (pool.ts); same answers. */
  async searchAsync(query: Float32Array, k: number, nprobe = 32, pool: ScanPool | null = sharedScanPool()): Promise<Hit[]> {
    if (!pool) return this.search(query, k, nprobe);
    const cq = this.centroids.setQuery(query);
    const probe = new TopK(Math.min(nprobe, this.nlist));
    this.centroids.scanTop(cq, 0, this.nlist, probe);
    const segments = probe.sorted().map(({ id: l }): [number, number] => [this.listStart[l], this.listStart[l + 1] - this.listStart[l]]);
    const found = await pool.topK(this.lists, query, Math.max(1, k), segments);
    const top = new TopK(Math.max(1, k));
    for (const { score, row } of found) top.push(score, this.ids[row]);
    const tail = this.exact.size - this.builtRows;
    if (tail > 0) {
      const eq = this.exact.rowsSpace.setQuery(query);
      this.exact.rowsSpace.scanTop(eq, this.builtRows, tail, top);
    }
    return top.sorted().map(({ id, score }) => this.exact.hit(id, score));
  }

  /** Save the quantiser and list order to `dir` (the rows are re-gathered from the exact index on load). */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const d = this.exact.dim;
    const cent = new Float32Array((this.top.count + this.centroids.count) * d);
    for (let i = 0; i < this.top.count; i++) this.top.vector(i, cent.subarray(i * d, i * d + d));
    for (let i = 0; i < this.centroids.count; i++)
      this.centroids.vector(i, cent.subarray((this.top.count + i) * d, (this.top.count + i + 1) * d));
    await writeFileAtomic(join(dir, 'centroids.f32'), bytesOf(cent));
    await writeFileAtomic(join(dir, 'list-start.u32'), bytesOf(this.listStart));
    await writeFileAtomic(join(dir, 'ids.u32'), bytesOf(this.ids));
    await writeFileAtomic(
      join(dir, 'ivf.json'),
      JSON.stringify({
        format: 'dinoscope-ivf',
        version: 1,
        dim: d,
        top: this.top.count,
        leaf: this.leafPerTop,
        builtRows: this.builtRows,
      }),
    );
  }

  static async load(dir: string, exact: ExactIndex): Promise<IvfIndex> {
    const meta = JSON.parse(await readFile(join(dir, 'ivf.json'), 'utf8')) as {
      format: string;
      dim: number;
      top: number;
      leaf: number;
      builtRows: number;
    };
    if (meta.format !== 'dinoscope-ivf' || meta.dim !== exact.dim || meta.builtRows > exact.size)
      throw new DinoscopeError('CORRUPT', `${dir}: the IVF index does not match the exact index.`);
    const d = meta.dim;
    const buf = await readFile(join(dir, 'centroids.f32'));
    const cent = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const top = new RowSpace(d);
    top.addFloat(cent, meta.top);
    const centroids = new RowSpace(d);
    centroids.addFloat(cent.subarray(meta.top * d), meta.top * meta.leaf);
    const ls = await readFile(join(dir, 'list-start.u32'));
    const listStart = new Uint32Array(ls.buffer.slice(ls.byteOffset, ls.byteOffset + ls.byteLength));
    const ib = await readFile(join(dir, 'ids.u32'));
    const ids = new Uint32Array(ib.buffer.slice(ib.byteOffset, ib.byteOffset + ib.byteLength));
    return new IvfIndex(exact, top, centroids, meta.leaf, copyRows(exact.rowsSpace, ids), listStart, ids, meta.builtRows);
  }
}

/** A new RowSpace holding src's rows in the order `ids`. */
function copyRows(src: RowSpace, ids: Uint32Array): RowSpace {
  const out = new RowSpace(src.dim);
  const s = src.stride;
  const block = 65536;
  const buf = new Int8Array(block * s);
  const sc = new Float32Array(block);
  for (let b = 0; b < ids.length; b += block) {
    const m = Math.min(block, ids.length - b);
    const all = src.rowsView(0, src.count);
    for (let i = 0; i < m; i++) {
      const r = ids[b + i];
      buf.set(all.subarray(r * s, r * s + s), i * s);
      sc[i] = src.scales[r];
    }
    out.addQuantized(buf, sc, m);
  }
  return out;
}

// A feature set's search index backed by LanceDB, for sets beyond RAM (store.ts decides when). Resident:
// only the catalog (catalog.ts: 12 bytes a row for scale, image and position). LanceDB's IVF_RQ index
// (lance-build.ts) proposes candidates; each is then re-scored exactly against the set's stored int8 rows
// (disk-rows.ts) with the same kernel and arithmetic as the in-memory index, so a returned hit's score
// equals ExactIndex's score for that row, and recall@k only measures whether the true neighbours were
// among the candidates. Heatmaps read one image's rows and score them all (exact, as in memory).
// Rows appended after the LanceDB table was built (rows ≥ record.rows) form a tail that every query
// scans exactly from disk; dinoscope index folds them in.
import { DinoscopeError } from '../../common/errors.js';
import { type Hit, StoredCatalog, readIndexManifest } from './catalog.js';
import { DiskRows } from './disk-rows.js';
import { LANCE_TABLE } from './lance-build.js';
import { RowIdMap } from './lance-fragments.js';
import { type PrewarmResult, prewarmLanceIndex } from './lance-prewarm.js';
import { loadLanceDb } from './lancedb.js';
import { RowSpace } from './rows.js';
import type { SearchIndex } from './search-index.js';
import { lanceUri, type StoreRecord } from './store.js';
import { TopK } from './topk.js';

type LanceTable = Awaited<ReturnType<Awaited<ReturnType<ReturnType<typeof loadLanceDb>['lancedb']['connect']>>['openTable']>>;

/** Candidates beyond k always asked of LanceDB: its one-bit RaBitQ distances rank coarsely, and re-scoring a
 * few hundred rows exactly costs a few ms. At 10^6 rows, k = 10, nprobes 20: 110 candidates gave recall@10
 * 0.94, 310 gave 0.98 (bench/RESULTS.md). */
const MIN_EXTRA_CANDIDATES = 300;
/** And one candidate per this many rows of the table: a larger collection has more rows about as near as the
 * true neighbours (more patches of the same tissue), which one bit a dimension cannot tell apart. At 2·10^7
 * rows, nprobes 20: 310 candidates gave recall@10 0.80, 1000 gave 0.93, 3000 gave 0.97; re-scoring 3000 rows
 * took 13 ms (bench/RESULTS.md). */
export const ROWS_PER_CANDIDATE = 6000;
/** IVF partitions probed per query. At 2·10^7 rows (2441 partitions) and 3334 candidates, over 200 queries:
 * recall@10 0.951 at 20 probes, 0.958 at 30 and 0.966 at 40 on one build of the index, 0.951 at 30 and 0.958 at
 * 40 on another (k-means differs between builds); every miss is a neighbour in a partition not probed. With
 * the warm cache below, 40 probes answered with a p95 of 57 ms against 47 ms for 30. At 10^6 and 2·10^6 rows
 * 20 probes gave 0.98 and 0.99 (bench/RESULTS.md). 40 keeps a margin over 0.95 on both builds. */
export const DEFAULT_NPROBES = 40;
/** LanceDB's cache of decoded index partitions, for the process (its default is 6 GB). A 2·10^7-row index
 * decodes to ~2 GB (~870 KB a partition of 8192 rows), which a search process would grow towards; held to
 * 512 MB, a searching process stays near 1 GB at that size. The operating system's file cache keeps the index
 * file itself (warm reads it in). */
export const INDEX_CACHE_BYTES = 512 * 2 ** 20;
const METADATA_CACHE_BYTES = 128 * 2 ** 20;
/** warm() fills LanceDB's partition cache with this many queries from the table's own rows. A query reads its
 * probed partitions from the index file and decodes them (~3 ms a partition at 2·10^7 rows) unless the cache
 * holds them (the same 20 queries repeated took 6 ms of LanceDB's time instead of ~90). Rows are what users
 * search with (their own patches), so these queries load the partitions such searches probe most. At 2·10^7
 * rows, 30 probes, the 512 MB cache: p95 98 ms for the first 200 queries after opening, 47–51 ms after this
 * warm-up (10 s, in the background when a project opens; bench/RESULTS.md); a cache filled by 15 queries
 * gave 62 ms. */
export const WARM_QUERIES = 300;
/** The warm-up's queries are spread over the table by the golden ratio: any prefix covers every image. */
const GOLDEN = (Math.sqrt(5) - 1) / 2;
/** One LanceDB session (its caches) for every store this process opens, so the bound above holds per process
 * however often stores are reopened. */
let session: InstanceType<ReturnType<typeof loadLanceDb>['lancedb']['Session']> | null = null;
/** Bytes LanceDB's caches hold now in this process (index partitions and file metadata). */
export function lanceCacheBytes(): number {
  return Number(session?.sizeBytes() ?? 0);
}
/** Rows scored per piece (the scratch space holds this many). */
const PIECE = 65536;

export interface LanceQueryOptions {
  /** IVF partitions probed per query (default DEFAULT_NPROBES). */
  nprobes?: number;
  /** Candidates asked of LanceDB per query: max(oversample · k, k + 300, rows / ROWS_PER_CANDIDATE) (default
   * oversample 4). */
  oversample?: number;
}

export class LanceIndex extends StoredCatalog implements SearchIndex {
  readonly store = 'lancedb';
  private table!: LanceTable;
  private rows!: DiskRows;
  private scratch!: RowSpace;
  private buf = new Int8Array(0);
  private rowIds: RowIdMap | null = null;
  private uri = '';
  private closed = false;
  record!: StoreRecord;
  /** What warm() read into the file cache (null before it ran). */
  prewarmed: PrewarmResult | null = null;
  /** Queries warm() ran to fill LanceDB's partition cache. */
  warmQueries = 0;
  nprobes = DEFAULT_NPROBES;
  oversample = 4;

  /** Open the LanceDB store of index folder `indexDir` of the set in `setDir`, as `record` says. */
  static async openStore(indexDir: string, setDir: string, record: StoreRecord, opts: LanceQueryOptions = {}): Promise<LanceIndex> {
    const { lancedb } = loadLanceDb();
    const idx = new LanceIndex(indexDir, await readIndexManifest(indexDir));
    await idx.readCatalog();
    if (record.rows > idx.size)
      throw new DinoscopeError(
        'CORRUPT',
        `${indexDir}: its LanceDB table has ${record.rows} rows but the index only ${idx.size}; run dinoscope index again to rebuild it.`,
      );
    const uri = lanceUri(setDir, record.uri);
    try {
      session ??= new lancedb.Session(BigInt(INDEX_CACHE_BYTES), BigInt(METADATA_CACHE_BYTES));
      // The session goes in the options: LanceDB 0.31's connect(uri, options, session) drops a session passed
      // third (it reads only options.session), which left every store on the default 6 GB cache.
      const db = await lancedb.connect(uri, { session });
      idx.table = await db.openTable(record.table || LANCE_TABLE);
    } catch (e) {
      throw new DinoscopeError(
        'NOT_FOUND',
        `The LanceDB store of this feature set (${uri}) could not be opened (${(e as Error).message.split('\n')[0]}). Check that it is reachable, or run dinoscope index again to rebuild it.`,
      );
    }
    idx.record = record;
    idx.uri = uri;
    idx.rowIds = record.fragments ? new RowIdMap(record.fragments) : null;
    idx.rows = new DiskRows(indexDir, idx.manifest);
    idx.scratch = new RowSpace(idx.dim);
    idx.nprobes = opts.nprobes ?? DEFAULT_NPROBES;
    idx.oversample = opts.oversample ?? 4;
    return idx;
  }

  /** Rows [record.rows, size): appended since the table was built, scanned exactly by every query. */
  get tailRows(): number {
    return this.size - this.record.rows;
  }

  vector(row: number, dst: Float32Array = new Float32Array(this.dim)): Float32Array {
    const one = this.bytes(1);
    this.rows.read(row, 1, one);
    const s = this.scales[row];
    for (let j = 0; j < this.dim; j++) dst[j] = one[j] * s;
    return dst;
  }

  private bytes(n: number): Int8Array {
    if (this.buf.length < n * this.manifest.stride) this.buf = new Int8Array(Math.max(n, 1024) * this.manifest.stride);
    return this.buf;
  }

  /** Exact scores of `rows` (any order) for `query`, into `top`. Synchronous: the scratch space is shared. */
  private rescore(query: Float32Array, rows: Uint32Array, top: TopK): void {
    const stride = this.manifest.stride;
    for (let p = 0; p < rows.length; p += PIECE) {
      const piece = rows.subarray(p, Math.min(rows.length, p + PIECE));
      const buf = this.bytes(piece.length);
      const scales = new Float32Array(piece.length);
      piece.forEach((r, i) => {
        this.rows.read(r, 1, buf.subarray(i * stride, (i + 1) * stride));
        scales[i] = this.scales[r];
      });
      this.scratch.clear();
      this.scratch.addQuantized(buf, scales, piece.length);
      const qs = this.scratch.setQuery(query);
      this.scratch.scanTop(qs, 0, piece.length, top, (i) => piece[i]);
    }
  }

  /** Exact scores of the contiguous rows [from, from + n) for `query`, into dst[0, n). */
  private scoreRange(query: Float32Array, from: number, n: number, dst: Float32Array): void {
    for (let p = 0; p < n; p += PIECE) {
      const m = Math.min(PIECE, n - p);
      const buf = this.bytes(m);
      this.rows.read(from + p, m, buf);
      this.scratch.clear();
      this.scratch.addQuantized(buf, this.scales.subarray(from + p, from + p + m), m);
      const qs = this.scratch.setQuery(query);
      this.scratch.scanInto(qs, 0, m, dst.subarray(p, p + m));
    }
  }

  /** Candidate rows from LanceDB for `query` (outside image number `skip` when given). */
  private async candidates(query: Float32Array, k: number, skip?: number): Promise<Uint32Array> {
    if (this.record.rows === 0) return new Uint32Array(0);
    const limit = Math.max(this.oversample * k, k + MIN_EXTRA_CANDIDATES, Math.ceil(this.record.rows / ROWS_PER_CANDIDATE));
    let q = this.table.vectorSearch(query).distanceType('dot').limit(limit);
    // With the fragments' first rows, LanceDB's row ids give the rows without reading the `row` column.
    q = this.rowIds ? q.select(['_distance']).withRowId() : q.select(['row', '_distance']);
    if (this.record.index) q = q.nprobes(this.nprobes);
    if (skip !== undefined) q = q.where(`image != ${skip}`);
    const t = await q.toArrow();
    if (this.rowIds) {
      const ids = t.getChild('_rowid');
      return ids ? this.rowIds.rows(ids.toArray() as BigUint64Array) : new Uint32Array(0);
    }
    const col = t.getChild('row');
    return col ? Uint32Array.from(col.toArray() as Uint32Array) : new Uint32Array(0);
  }

  private async top(query: Float32Array, k: number, skip?: number): Promise<Hit[]> {
    const kk = Math.max(1, Math.min(k, this.size));
    if (this.size === 0) return [];
    const cand = await this.candidates(query, kk, skip);
    const top = new TopK(kk);
    this.rescore(query, cand, top);
    // The tail, rows the table does not hold yet: scanned exactly.
    const tail = this.tailRows;
    if (tail > 0) {
      const scores = new Float32Array(tail);
      this.scoreRange(query, this.record.rows, tail, scores);
      for (let i = 0; i < tail; i++) {
        const r = this.record.rows + i;
        if ((skip === undefined || this.imageOf[r] !== skip) && scores[i] > top.threshold) top.push(scores[i], r);
      }
    }
    return top.sorted().map(({ id, score }) => this.hit(id, score));
  }

  searchAsync(query: Float32Array, k: number): Promise<Hit[]> {
    return this.top(query, k);
  }

  async searchOthersAsync(query: Float32Array, k: number, imageId: string): Promise<Hit[]> {
    const ii = this.imageNumber(imageId);
    const own = this.image(imageId)?.ranges.reduce((s, [, c]) => s + c, 0) ?? 0;
    if (own >= this.size) return [];
    return this.top(query, k, ii);
  }

  async heatmapAsync(imageId: string, query: Float32Array): Promise<Float32Array> {
    const im = this.image(imageId);
    if (!im) throw new DinoscopeError('NOT_FOUND', `index: no image ${imageId}.`);
    const n = im.ranges.reduce((s, [, c]) => s + c, 0);
    const scores = new Float32Array(Math.max(1, n)); // (n,) in range order
    let o = 0;
    for (const [s, c] of im.ranges) {
      this.scoreRange(query, s, c, scores.subarray(o, o + c));
      o += c;
    }
    return this.scatter(im, scores);
  }

  /** Read the index files into the file cache (lance-prewarm.ts), then fill LanceDB's partition cache with
   * queries from the table's rows (WARM_QUERIES): the first clicks then cost what later ones do. Runs in the
   * background when a project opens; close() ends it. */
  async warm(): Promise<void> {
    if (this.size === 0) return;
    if (this.record.index && !this.prewarmed)
      this.prewarmed = await prewarmLanceIndex(this.uri, this.record.table || LANCE_TABLE, { stop: () => this.closed });
    if (this.closed || this.warmQueries > 0) return;
    const rows = this.record.rows;
    const n = this.record.index ? Math.min(WARM_QUERIES, rows) : 1;
    const v = new Float32Array(this.dim);
    for (let i = 0; i < n && !this.closed; i++) {
      const row = Math.min(rows - 1, Math.floor(((i * GOLDEN) % 1) * rows));
      await this.candidates(this.vector(row, v), 10);
      this.warmQueries++;
    }
  }

  close(): void {
    this.closed = true;
    this.rows?.close();
    this.table?.close();
  }
}

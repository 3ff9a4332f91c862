// Indexes a feature set in LanceDB: every row of its search index (the int8 rows in the chunk files,
// dequantised to unit vectors) is streamed, a batch at a time (the batch's rows and their chunk's meta file
// resident, never the whole index), into one table `vectors` {row uint32, image uint32, vector
// float32[dim]}, then an IVF_RQ vector index (LanceDB's
// RaBitQ: one bit a dimension, 48 bytes a 384-d row; it trained ~25× faster than IVF_PQ here) with a
// partition per ROWS_PER_PARTITION rows. Queries re-rank its candidates exactly (lance-index.ts), so the index only has to
// bring the true neighbours among them. A table under MIN_INDEXED_ROWS rows gets no vector index: LanceDB
// scans it whole, which is exact.
// The database is the set's own `lancedb/` folder unless a URL is given: LanceDB opens s3://, gs:// and
// az:// URIs itself (credentials from the usual environment variables of each cloud).
// Old versions: LanceDB keeps every version of a table (an overwrite leaves the old data files behind), so
// re-indexing into one table grew the folder by a whole copy each time. Each build writes a new table
// (`vectors-<time>`), the record switches to it, then the previous table is dropped (its files deleted),
// and so are tables left by an interrupted build: one table's bytes after a re-index, never two. An open
// index keeps reading the previous table until the record has switched. (LanceDB 0.31's other cleanup,
// Table.optimize({cleanupOlderThan}), also compacts: it would rewrite every row the build just wrote.)
// Resume: a build of 10^7 rows streams for most of an hour and then trains its index for hours more, so a
// killed build is not started over. While a build runs, `lance-build.json` in the index folder names its table,
// the database and the manifest it indexes (build-resume.ts); the next build of the same manifest into the same
// database keeps that table, appends from the rows it already holds (each LanceDB add is one atomic commit, in
// row order) and trains the index if it was not yet recorded. Any other interrupted table is dropped.
// Why float32 vectors, twice the bytes of float16: LanceDB 0.31 trains its IVF k-means and assigns the rows to
// partitions in the column's own type, and its float16 arithmetic (no half-precision instructions used on
// x86) ran 20× slower: 10^5 rows × 400 partitions took 100 CPU-s to index from float16 against 5.2 from
// float32, which made a 2·10^7-row float16 build a matter of CPU-days. Stores built from float16 before
// still open and search (LanceDB casts the query); a pending float16 build is not resumed (build-resume.ts).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { chunkName, META_BYTES, readExactly, readIndexManifestFile } from './catalog.js';
import { clearPendingBuild, manifestDigest, readPendingBuild, writePendingBuild } from './build-resume.js';
import { DiskRows } from './disk-rows.js';
import { scanFragmentRows } from './lance-fragments.js';
import { loadLanceDb } from './lancedb.js';
import { lanceUri, readStoreRecord, type StoreRecord, writeStoreRecord } from './store.js';

/** The table name of stores built before each build wrote its own table; new tables start with it. */
export const LANCE_TABLE = 'vectors';
/** A build's own table name: LANCE_TABLE, a dash, the time in base 36 (sorts by time) and a random tail. */
const newTableName = (): string => `${LANCE_TABLE}-${Date.now().toString(36).padStart(9, '0')}-${randomBytes(3).toString('hex')}`;
const isOurTable = (name: string): boolean => name === LANCE_TABLE || name.startsWith(`${LANCE_TABLE}-`);
export const MIN_INDEXED_ROWS = 1024;
/** Rows per IVF partition aimed at: LanceDB's k-means costs grow with the square of the partition count
 * (it samples a fixed number of rows a partition), so √rows partitions took minutes already at 20 000 rows
 * on a loaded 2-core machine. With a partition per 8192 rows the k-means still grows with the square of the
 * rows (only slower), which is why it samples fewer rows for fewer iterations below; exact re-ranking keeps
 * recall. */
export const ROWS_PER_PARTITION = 8192;
export const defaultPartitions = (rows: number): number => Math.max(1, Math.round(rows / ROWS_PER_PARTITION));
/** LanceDB trains its IVF centroids by k-means on 256 sampled rows a partition for up to 50 iterations: a cost
 * of partitions² · 12 800 distance evaluations, which at 2·10^7 rows (2441 partitions) is most of a build
 * (measured on 2·10^5 rows × 96 partitions: 12.9 CPU-s to train the index, 5.0 with 32 rows and 10
 * iterations). 64 rows a centroid is above the ~40 FAISS asks for, and k-means for coarse partitions settles
 * in a few iterations; exact re-ranking of the candidates keeps recall (measured by the scale bench). */
export const KMEANS_SAMPLE_RATE = 64;
export const KMEANS_MAX_ITERATIONS = 20;
const BATCH_ROWS = 65536;

export interface LanceBuildOptions {
  /** null: `<setDir>/lancedb`. */
  uri?: string | null;
  /** IVF partitions (default defaultPartitions(rows)). */
  partitions?: number;
  /** Rows per batch written (default 65536); resident while written: about 9 bytes a dimension a row. */
  batchRows?: number;
  log?: (line: string) => void;
}

export async function buildLanceStore(indexDir: string, setDir: string, opts: LanceBuildOptions = {}): Promise<StoreRecord> {
  const { lancedb, arrow } = loadLanceDb();
  const log = opts.log ?? (() => {});
  // One read of manifest.json: parsed here, digested below for the resume record.
  const { manifest: m, bytes: manifestBytes } = await readIndexManifestFile(indexDir);
  const uri = opts.uri ?? null;
  const rows = new DiskRows(indexDir, m);
  const batchRows = Math.max(1, Math.min(opts.batchRows ?? BATCH_ROWS, m.chunkRows));
  const dim = m.dim;
  const vectorType = new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
  const schema = new arrow.Schema([
    new arrow.Field('row', new arrow.Uint32(), false),
    new arrow.Field('image', new arrow.Uint32(), false),
    new arrow.Field('vector', vectorType, false),
  ]);
  const previous = await readStoreRecord(indexDir);
  // The previous build's table, when it lives in this database: kept until the new one is recorded.
  const previousTable =
    previous?.store === 'lancedb' && lanceUri(setDir, previous.uri) === lanceUri(setDir, uri) ? previous.table || LANCE_TABLE : null;
  const db = await lancedb.connect(lanceUri(setDir, uri));
  try {
    const digest = manifestDigest(manifestBytes);
    const partitions = m.rows >= MIN_INDEXED_ROWS ? (opts.partitions ?? defaultPartitions(m.rows)) : 0;
    const pending = await readPendingBuild(indexDir);
    const names = await db.tableNames();
    const resumable =
      pending !== null &&
      pending.uri === uri &&
      pending.manifest === digest &&
      pending.table !== previousTable &&
      names.includes(pending.table)
        ? pending
        : null;
    // An interrupted build's tables, but the one this build resumes.
    for (const name of names) if (isOurTable(name) && name !== previousTable && name !== resumable?.table) await db.dropTable(name);
    let tableName = resumable?.table ?? newTableName();
    let table = resumable ? await db.openTable(tableName) : await db.createEmptyTable(tableName, schema);
    let from = resumable ? await table.countRows() : 0;
    if (from > m.rows) {
      // More rows than the manifest has: not this manifest's table after all; start over.
      table.close();
      await db.dropTable(tableName);
      tableName = newTableName();
      table = await db.createEmptyTable(tableName, schema);
      from = 0;
    }
    if (resumable && from > 0) log(`LanceDB: resuming an interrupted build: ${from} of ${m.rows} rows are already in its table.`);
    await writePendingBuild(indexDir, { uri, table: tableName, manifest: digest, partitions });
    const q = new Int8Array(batchRows * m.stride);
    const f = new Float32Array(batchRows * dim);
    const meta = new Uint8Array(m.chunkRows * META_BYTES);
    const dv = new DataView(meta.buffer);
    let metaChunk = -1;
    while (from < m.rows) {
      // Batches never cross a chunk, so one chunk's meta file (scale, image, position a row) covers each.
      const c = Math.floor(from / m.chunkRows);
      const n = Math.min(batchRows, m.rows - from, (c + 1) * m.chunkRows - from);
      if (metaChunk !== c) {
        await readExactly(join(indexDir, chunkName(c, 'meta')), meta, m.chunks[c] * META_BYTES);
        metaChunk = c;
      }
      const at = from - c * m.chunkRows;
      rows.read(from, n, q);
      const image = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const s = dv.getFloat32((at + i) * META_BYTES, true);
        image[i] = dv.getUint32((at + i) * META_BYTES + 4, true);
        for (let j = 0; j < dim; j++) f[i * dim + j] = q[i * m.stride + j] * s;
      }
      const start = from;
      const rowData = arrow.makeData({ type: new arrow.Uint32(), length: n, data: Uint32Array.from({ length: n }, (_, i) => start + i) });
      const imageData = arrow.makeData({ type: new arrow.Uint32(), length: n, data: image });
      const values = arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: f.slice(0, n * dim) });
      const vectors = arrow.makeData({ type: vectorType, length: n, child: values });
      const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, children: [rowData, imageData, vectors] });
      await table.add(new arrow.Table([new arrow.RecordBatch(schema, struct)]) as unknown as Parameters<typeof table.add>[0]);
      from += n;
      log(`LanceDB: ${from} of ${m.rows} rows written.`);
    }
    const written = await table.countRows();
    if (written !== m.rows)
      throw new DinoscopeError(
        'INTERNAL',
        `LanceDB holds ${written} of the ${m.rows} rows written: two copies of apache-arrow are installed (npm ls apache-arrow); reinstall with one.`,
      );
    let index: StoreRecord['index'] = null;
    if (partitions > 0) {
      // An index LanceDB committed before the interruption is complete (its commit is atomic) and was trained
      // with the partitions the pending record names.
      const trained =
        resumable?.partitions === partitions &&
        (await table.listIndices()).some((i) => i.columns.length === 1 && i.columns[0] === 'vector');
      if (trained) log(`LanceDB: the interrupted build had trained its IVF_RQ index (${partitions} partitions); kept.`);
      else {
        log(`LanceDB: training the IVF_RQ index (${partitions} partitions) …`);
        await table.createIndex('vector', {
          config: lancedb.Index.ivfRq({
            distanceType: 'dot',
            numPartitions: partitions,
            sampleRate: KMEANS_SAMPLE_RATE,
            maxIterations: KMEANS_MAX_ITERATIONS,
          }),
          replace: true,
        });
      }
      index = { type: 'IVF_RQ', partitions };
    }
    const fragments = await scanFragmentRows(table.query().select(['row']).withRowId());
    if (!fragments) log('LanceDB: a fragment of the table does not hold one run of rows; queries will read its row column.');
    table.close();
    const record: StoreRecord = {
      format: 'dinoscope-index-store',
      version: 1,
      store: 'lancedb',
      uri,
      table: tableName,
      rows: m.rows,
      index,
      builtAt: new Date().toISOString(),
      ...(fragments && { fragments }),
    };
    await writeStoreRecord(indexDir, record);
    await clearPendingBuild(indexDir);
    if (previousTable !== null && previousTable !== tableName) {
      await db
        .dropTable(previousTable)
        .catch((e: Error) =>
          log(`LanceDB: the previous table ${previousTable} could not be removed (${e.message}); the next build removes it.`),
        );
    }
    return record;
  } finally {
    rows.close();
    db.close();
  }
}

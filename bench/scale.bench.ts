// `npm run bench -- scale`: a feature set beyond RAM, searched from LanceDB (core/features/index/lance-*.ts).
// R synthetic 384-d vectors with real cluster structure (CLUSTERS centres, each row its centre plus a
// window of Gaussian noise, as search.bench.ts) are appended, IMAGE_BATCH rows at a time, to a search index
// on disk through DiskIndexWriter (what extraction and `dinoscope index` use: int8 chunks, never the whole
// index resident), then streamed into LanceDB in batches (float32 table + IVF_RQ, R / 8192 partitions).
// Measures the peak RSS of each phase (writing, LanceDB build, queries; VmHWM reset between them), the build time,
// query latency p50/p95 of the LanceDB-backed index (candidates re-scored exactly from the int8 rows),
// recall@10 against exact search (ground truth: every row scanned once for all queries), peak RSS of this
// process (VmHWM; the generation streams, so the peak is the build or the queries), and disk bytes per
// vector; then a table extrapolating the per-vector costs to 10^8 and 10^9 rows.
// Data lives in os.tmpdir()/dinoscope-scale-bench/R (reused when complete; delete it to start over).
// Environment: DINOSCOPE_SCALE_ROWS (default 2·10^7), SCALE_QUERIES (200: a p95 over 100 queries is their 95th value alone), SCALE_NPROBES (the index's
// default, or a list such as 20,64: each is measured, the last one is reported), SCALE_K (10), SCALE_OVERSAMPLE
// (candidates asked of LanceDB: max(oversample · k, k + 300); default 4), SCALE_BATCH_ROWS (rows a LanceDB
// write batch, default 65536), SCALE_DROP_CACHES=1 (empty the file cache before opening the store, root only).
// The store is opened as the app opens it: warm() reads the index files into the file cache (lance-prewarm.ts)
// and fills LanceDB's partition cache with queries from the table's own rows (evenly spread, not the measured
// queries; LanceIndex.warm), its time printed; then the queries run. SCALE_COLD=1 skips the warm-up: the first
// queries after opening, each decoding its partitions.
// Last line: `scale rows R p95_ms X recall10 Y rss_mb Z write_rss_mb W table_rss_mb T build_rss_mb B` (rss_mb:
// the whole run's peak; W: writing the int8 index, T: streaming it into the LanceDB table, B: the whole
// LanceDB build, its IVF_RQ training included; n/a when reused from an earlier run).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gaussian, mulberry32 as rng } from '../core/common/random.js';
import { DiskIndexWriter } from '../core/features/index/disk-append.js';
import { buildLanceStore } from '../core/features/index/lance-build.js';
import { LanceIndex } from '../core/features/index/lance-index.js';
import { RowSpace, strideFor } from '../core/features/index/rows.js';
import { readStoreRecord, type StoreRecord } from '../core/features/index/store.js';
import { TopK } from '../core/features/index/topk.js';
import { DiskRows } from '../core/features/index/disk-rows.js';
import { StoredCatalog } from '../core/features/index/catalog.js';
import { fmtMachine } from './lib/machine.js';
import { peakRssBytes, resetPeakRss } from './lib/rss.js';
import { quantile } from './lib/stats.js';

const D = 384;
const CLUSTERS = 5000;
const CHUNK = 262144;
const PER_IMAGE = 1_000_000; // each image a 1000 × 1000 patch grid
const R = Number(process.env.DINOSCOPE_SCALE_ROWS ?? 2e7);
const QUERIES = Number(process.env.SCALE_QUERIES ?? 200);
const K = Number(process.env.SCALE_K ?? 10);
const OVERSAMPLE = process.env.SCALE_OVERSAMPLE ? Number(process.env.SCALE_OVERSAMPLE) : undefined;
const NPROBES = process.env.SCALE_NPROBES ? process.env.SCALE_NPROBES.split(',').map(Number) : [undefined];
/** SCALE_DROP_CACHES=1: empty the kernel's file cache before each open (root only), so the warm-up and the
 * queries read from disk as after a reboot: the int8 rows re-scored then come from disk too. */
const DROP_CACHES = process.env.SCALE_DROP_CACHES === '1';
const COLD = process.env.SCALE_COLD === '1';
const BATCH_ROWS = process.env.SCALE_BATCH_ROWS ? Number(process.env.SCALE_BATCH_ROWS) : undefined;
/** Rows a DiskIndexWriter append (extraction appends a feature-store chunk row of an image at a time). */
const IMAGE_BATCH = 65536;
const root = join(tmpdir(), 'dinoscope-scale-bench', String(R));
const indexDir = join(root, 'index');
const log = (s: string): void => void process.stderr.write(s + '\n');
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function generator(): (i: number, dst: Float32Array, off: number) => void {
  const g = gaussian(rng(11));
  const centers = new Float32Array(CLUSTERS * D);
  for (let i = 0; i < centers.length; i++) centers[i] = g() / Math.sqrt(D);
  const noise = new Float32Array(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = g() * 0.035;
  return (i, dst, off) => {
    const h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    const c = (h % CLUSTERS) * D;
    const n = (Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0) % (noise.length - D);
    for (let j = 0; j < D; j++) dst[off + j] = centers[c + j] + noise[n + j];
  };
}

/** The search index of R rows appended through DiskIndexWriter (FORMAT: core/features/store/FORMAT.md), never resident. */
async function writeIndex(): Promise<boolean> {
  if (existsSync(join(indexDir, 'manifest.json'))) return false;
  log(`generating ${R} × ${D} rows into ${indexDir} …`);
  const t = performance.now();
  await mkdir(indexDir, { recursive: true });
  const gen = generator();
  const writer = await DiskIndexWriter.create(indexDir, D, CHUNK);
  const vectors = new Float32Array(IMAGE_BATCH * D);
  const positions = new Uint32Array(IMAGE_BATCH);
  for (let s = 0; s < R;) {
    // One image per PER_IMAGE rows; batches never cross an image.
    const n = Math.min(IMAGE_BATCH, R - s, PER_IMAGE - (s % PER_IMAGE));
    for (let i = 0; i < n; i++) {
      gen(s + i, vectors, i * D);
      positions[i] = (s + i) % PER_IMAGE;
    }
    const image = Math.floor(s / PER_IMAGE);
    await writer.append({
      image: `slide-${image}`,
      gridWidth: 1000,
      gridHeight: 1000,
      positions: positions.subarray(0, n),
      vectors: vectors.subarray(0, n * D),
    });
    s += n;
    if (s % (8 * CHUNK) < n) log(`  ${s} rows`);
  }
  log(`  written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  return true;
}

/** Exact top-K of every query: each row scanned once, all queries scored per piece. */
function groundTruth(queries: Float32Array[]): Set<number>[] {
  const cat = catalog!;
  const rows = new DiskRows(indexDir, cat.manifest);
  const space = new RowSpace(D);
  const tops = queries.map(() => new TopK(K));
  const piece = 65536;
  const buf = new Int8Array(piece * cat.manifest.stride);
  for (let s = 0; s < R; s += piece) {
    const n = Math.min(piece, R - s);
    rows.read(s, n, buf);
    space.clear();
    space.addQuantized(buf, cat.scales.subarray(s, s + n), n);
    queries.forEach((q, i) => space.scanTop(space.setQuery(q), 0, n, tops[i], (r) => s + r));
  }
  rows.close();
  return tops.map((t) => new Set(t.sorted().map((h) => h.id)));
}

/** A full garbage collection (V8's gc exposed at run time), so memory the bench dropped is not counted. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function dropFileCache(): void {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    log('file cache dropped');
  } catch (e) {
    log(`could not drop the file cache (${(e as Error).message.split('\n')[0]}): measuring with it`);
  }
}

function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return total;
}

/** Ground truth and the queries in this process: p95, recall and the searching's peak RSS (opening the store,
 * its warm-up and the queries). */
async function queryPhase(record: StoreRecord): Promise<{ p95: number; recall: number; rss: number }> {
  resetPeakRss();
  catalog = await StoredCatalog.open(indexDir);
  const u = rng(5);
  const queryRows = Array.from({ length: QUERIES }, () => Math.floor(u() * R));
  const queries = queryRows.map((r) => {
    const v = new Float32Array(D);
    const row = new Int8Array(strideFor(D));
    new DiskRows(indexDir, catalog!.manifest).read(r, 1, row);
    for (let j = 0; j < D; j++) v[j] = row[j] * catalog!.scales[r];
    return v;
  });
  let t = performance.now();
  const truth = groundTruth(queries);
  log(
    `ground truth (exact scan of every row for ${QUERIES} queries) in ${((performance.now() - t) / 1000).toFixed(0)} s, peak RSS ${((peakRssBytes(process.pid) ?? NaN) / 1e6).toFixed(0)} MB`,
  );
  // The bench's own catalog (the queries' vectors and the scan's scales) goes before the store opens: the
  // figure is the searching process's, as the app holds it (one catalog, the index's).
  catalog = null;
  collectGarbage();
  resetPeakRss();

  let last = { p95: NaN, recall: NaN };
  for (const nprobes of NPROBES) {
    if (DROP_CACHES) dropFileCache();
    const idx = await LanceIndex.openStore(indexDir, root, record, { nprobes, oversample: OVERSAMPLE });
    t = performance.now();
    if (!COLD) await idx.warm();
    const pw = idx.prewarmed;
    log(
      `opened and warmed in ${((performance.now() - t) / 1000).toFixed(1)} s: ` +
        (pw?.skipped
          ? `index files not read (${pw.skipped})`
          : `${((pw?.read ?? 0) / 1e9).toFixed(2)} GB of index files read into the file cache`) +
        `, ${idx.warmQueries} warm-up queries from the table's rows`,
    );
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < QUERIES; i++) {
      t = performance.now();
      const hits = await idx.searchAsync(queries[i], K);
      times.push(performance.now() - t);
      found += hits.filter((h) => truth[i].has(h.row)).length;
    }
    const recall = found / (QUERIES * K);
    last = { p95: quantile(times, 0.95), recall };
    log(
      `nprobes ${idx.nprobes} of ${record.index?.partitions ?? 0} partitions, ${idx.oversample}× candidates: ` +
        `p50 ${quantile(times, 0.5).toFixed(1)} ms, p95 ${last.p95.toFixed(1)} ms, recall@${K} ${recall.toFixed(3)} (load ${load()})`,
    );
    idx.close();
  }
  return { ...last, rss: peakRssBytes(process.pid) ?? 0 }; // since the reset: opening, warm-up and queries
}

let catalog: StoredCatalog | null = null;

log(`scale bench: ${R} rows × ${D}, ${QUERIES} queries; ${fmtMachine()}; load ${load()}`);
const phases = resetPeakRss();
if (!phases) log('(this platform cannot reset the peak RSS: the phases below report the peak so far)');
const wrote = await writeIndex();
const writeRss = wrote ? (peakRssBytes(process.pid) ?? NaN) : NaN;
if (wrote) log(`peak RSS writing the index: ${(writeRss / 1e6).toFixed(0)} MB (load ${load()})`);
let record = await readStoreRecord(indexDir);
let buildS = NaN;
let buildRss = NaN;
let tableRss = NaN;
if (!record || record.rows !== R) {
  resetPeakRss();
  const t = performance.now();
  record = await buildLanceStore(indexDir, root, {
    batchRows: BATCH_ROWS,
    log: (l) => {
      if (l.includes('training')) {
        // The rows are in the table: the peak so far is the streamed writes'; the training's starts now.
        tableRss = peakRssBytes(process.pid) ?? NaN;
        log(`peak RSS streaming the rows into the table: ${(tableRss / 1e6).toFixed(0)} MB`);
        resetPeakRss();
      }
      if (l.includes('training') || l.includes('resuming') || /000000 of/.test(l)) log(l);
    },
  });
  buildS = (performance.now() - t) / 1000;
  const trainRss = peakRssBytes(process.pid) ?? NaN;
  buildRss = Math.max(tableRss, Number.isNaN(trainRss) ? 0 : trainRss);
  log(
    `LanceDB store built in ${buildS.toFixed(0)} s, peak RSS ${(buildRss / 1e6).toFixed(0)} MB (table writes ${(tableRss / 1e6).toFixed(0)} MB, index training ${(trainRss / 1e6).toFixed(0)} MB; load ${load()})`,
  );
} else log('LanceDB store reused from an earlier run (build time not measured in this run)');
const rssAfterBuild = Math.max(Number.isNaN(writeRss) ? 0 : writeRss, Number.isNaN(buildRss) ? 0 : buildRss);
// The searches run in a process of their own when this one built the store, as the app or `dinoscope serve`
// opens a store that a `dinoscope index` job built: memory the build's allocator kept (LanceDB's k-means)
// is no part of a searching process (at 2·10^7 rows the search phase peaked at 2.3 GB after a build in the
// same process).
let last: { p95: number; recall: number; rss: number };
if (Number.isFinite(buildS) && process.env.SCALE_ONE_PROCESS !== '1') {
  log('searching from a fresh process (as the app opening the store) …');
  const out = execFileSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const m = /p95_ms (\S+) recall10 (\S+) rss_mb (\S+)/.exec(out.trim().split('\n').at(-1) ?? '');
  if (!m) throw new Error(`the search process printed no result line: ${out.slice(-500)}`);
  last = { p95: Number(m[1]), recall: Number(m[2]), rss: Number(m[3]) * 1e6 };
} else last = await queryPhase(record);
const queryRss = last.rss;
const peak = Math.max(queryRss, rssAfterBuild);
const lanceBytes = du(join(root, 'lancedb'));
const int8Bytes = du(indexDir);
const perVec = {
  buildUs: (buildS * 1e6) / R,
  lanceB: lanceBytes / R,
  int8B: int8Bytes / R,
  residentB: 12, // the catalog: scale, image, position
};
const mb = (b: number): string => (Number.isNaN(b) ? 'n/a' : (b / 1e6).toFixed(0));
log(`peak RSS ${mb(peak)} MB: writing the index ${mb(writeRss)} MB, LanceDB build ${mb(buildRss)} MB, searching ${mb(queryRss)} MB`);
log(
  `disk: LanceDB ${(lanceBytes / 1e9).toFixed(2)} GB (${perVec.lanceB.toFixed(0)} B/vector), int8 index ${(int8Bytes / 1e9).toFixed(2)} GB (${perVec.int8B.toFixed(0)} B/vector)`,
);
log('');
log('rows      build (this machine) disk (LanceDB + int8)  resident catalog');
for (const n of [R, 1e8, 1e9]) {
  const build = Number.isFinite(buildS) ? `${((perVec.buildUs * n) / 3.6e9).toFixed(1)} h` : 'n/a';
  log(
    `${n.toExponential(1).padEnd(9)} ${build.padEnd(20)} ${(((perVec.lanceB + perVec.int8B) * n) / 1e9).toFixed(0).padStart(6)} GB              ${((perVec.residentB * n) / 1e9).toFixed(2)} GB`,
  );
}
log(
  '(linear in rows from the measured per-vector costs: a lower bound for the build, whose IVF k-means grows with the square of the partitions, one per 8192 rows)',
);
process.stdout.write(
  `scale rows ${R} p95_ms ${last.p95.toFixed(1)} recall10 ${last.recall.toFixed(3)} rss_mb ${mb(peak)} write_rss_mb ${mb(writeRss)} table_rss_mb ${mb(tableRss)} build_rss_mb ${mb(buildRss)}\n`,
);

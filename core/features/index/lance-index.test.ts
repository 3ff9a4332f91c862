// The LanceDB-backed index against the in-memory exact index on real files: a few thousand clustered
// vectors in several images, indexed by a real LanceDB (IVF_RQ), queried with the exact re-ranking.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../synthetic.js';
import { ExactIndex } from './exact.js';
import { LANCE_TABLE, buildLanceStore } from './lance-build.js';
import { INDEX_CACHE_BYTES, LanceIndex, WARM_QUERIES, lanceCacheBytes } from './lance-index.js';
import { RowIdMap } from './lance-fragments.js';
import { prewarmLanceIndex } from './lance-prewarm.js';
import { openSearchIndex } from './open.js';
import { describeStore, readStoreRecord } from './store.js';

const D = 384;
const IMAGES = 4;
const GRID = 40; // 40 × 40 patches an image, 1600 rows each: 6400 rows
let dir: string;
let exact: ExactIndex;
let lance: LanceIndex;
let vectors: Float32Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-lance-'));
  const indexDir = join(dir, 'index');
  vectors = clusteredVectors(IMAGES * GRID * GRID, D, 40, 0.06, 5).vectors;
  exact = await ExactIndex.create(indexDir, D, 2048); // several chunk files
  for (let i = 0; i < IMAGES; i++) {
    const n = GRID * GRID;
    await exact.append({
      image: `img-${i}`,
      gridWidth: GRID,
      gridHeight: GRID,
      positions: Uint32Array.from({ length: n }, (_, p) => p),
      vectors: vectors.subarray(i * n * D, (i + 1) * n * D),
    });
  }
  await buildLanceStore(indexDir, dir, { partitions: 16 });
  const opened = await openSearchIndex(indexDir, dir);
  expect(opened.store).toBe('lancedb');
  lance = opened as LanceIndex;
  lance.nprobes = 4; // of 16 partitions: candidates come from a quarter of the rows, as in a large set
}, 180_000);

afterAll(async () => {
  lance?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('LanceDB-backed index', () => {
  it('records its store and holds every row', async () => {
    const rec = await readStoreRecord(join(dir, 'index'));
    expect(rec).toMatchObject({ store: 'lancedb', uri: null, rows: IMAGES * GRID * GRID, index: { type: 'IVF_RQ', partitions: 16 } });
    expect(lance.size).toBe(exact.size);
  });

  it('finds the exact top-10 (recall ≥ 0.95) with scores equal to the exact index', async () => {
    let found = 0;
    let total = 0;
    for (let qi = 0; qi < 40; qi++) {
      const row = (qi * 157) % exact.size;
      const q = exact.vector(row);
      const want = exact.search(q, 10);
      const got = await lance.searchAsync(q, 10);
      expect(got).toHaveLength(10);
      const scoreOf = new Map(want.map((h) => [h.row, h.score]));
      const exactScore = new Map(exact.search(q, exact.size).map((h) => [h.row, h.score]));
      for (const h of got) {
        // Every returned row carries the exact index's score for it, bit for bit.
        expect(h.score).toBe(exactScore.get(h.row));
        if (scoreOf.has(h.row)) found++;
      }
      total += want.length;
    }
    expect(found / total).toBeGreaterThanOrEqual(0.95);
  });

  it('leaves one image out when asked, and draws the same heatmap as the exact index', async () => {
    const q = exact.vector(5);
    const others = await lance.searchOthersAsync(q, 20, 'img-0');
    expect(others.length).toBe(20);
    expect(others.every((h) => h.image !== 'img-0')).toBe(true);
    const want = await exact.searchOthersAsync(q, 20, 'img-0', null);
    const wanted = new Set(want.map((h) => h.row));
    expect(others.filter((h) => wanted.has(h.row)).length).toBeGreaterThanOrEqual(19);
    for (const id of ['img-0', 'img-3']) expect(await lance.heatmapAsync(id, q)).toEqual(exact.heatmap(id, q));
  });

  it('maps LanceDB row ids to rows, and a store recorded without fragments answers the same from its row column', async () => {
    const indexDir = join(dir, 'index');
    const rec = (await readStoreRecord(indexDir))!;
    // 6400 rows written in batches of at most 2048 that never cross a chunk: one fragment a batch, in order.
    expect(rec.fragments).toEqual([
      [0, 0],
      [1, 2048],
      [2, 4096],
      [3, 6144],
    ]);
    const { fragments: _, ...before } = rec;
    const old = await LanceIndex.openStore(indexDir, dir, before, { nprobes: 4 });
    try {
      for (const row of [3, 2500, 6399]) {
        const q = exact.vector(row);
        expect(await old.searchAsync(q, 10)).toEqual(await lance.searchAsync(q, 10));
        expect(await old.searchOthersAsync(q, 10, 'img-1')).toEqual(await lance.searchOthersAsync(q, 10, 'img-1'));
      }
    } finally {
      old.close();
    }
    // A row id of a fragment the record does not know: the table changed behind the record.
    expect(() => new RowIdMap([[0, 0]]).rows(BigUint64Array.of((1n << 32n) | 5n))).toThrow(/changed since it was indexed/);
    expect(Array.from(new RowIdMap(rec.fragments!).rows(BigUint64Array.of(7n, (2n << 32n) | 11n)))).toEqual([7, 4107]);
  });

  it('warms by reading every index file once (to the file cache), and skips stores that could not stay cached', async () => {
    // The table's one index: a folder of files under <table>…lance/_indices/.
    let bytes = 0;
    const db = join(dir, 'lancedb');
    for (const e of await readdir(db, { recursive: true }))
      if (/^vectors[^/]*\.lance\/_indices\/[^/]+\/[^/]+$/.test(e)) bytes += (await stat(join(db, e))).size;
    expect(bytes).toBeGreaterThan((6400 * 384) / 8); // at least the one-bit codes of every row
    const q = exact.vector(321);
    const before = await lance.searchAsync(q, 10);
    await lance.warm();
    expect(lance.prewarmed).toEqual({ bytes, read: bytes });
    // Then queries from the table's rows fill LanceDB's partition cache (this table is far below it: all of them).
    expect(lance.warmQueries).toBe(WARM_QUERIES);
    // …in this process's LanceDB session, whose cache bound is ours: LanceDB 0.31 drops a session passed to
    // connect() third, which had left every store on its default 6 GB cache and this one empty.
    // All 16 partitions are cached by now, decoded: at least the index files' bytes (the unused session held 152).
    expect(lanceCacheBytes()).toBeGreaterThan(bytes);
    expect(lanceCacheBytes()).toBeLessThanOrEqual(INDEX_CACHE_BYTES + 128 * 2 ** 20);
    expect(await lance.searchAsync(q, 10)).toEqual(before);
    // A machine whose memory's quarter is below the index: nothing read, and why.
    expect(await prewarmLanceIndex(join(dir, 'lancedb'), LANCE_TABLE, { memoryBytes: 4 * bytes - 4 })).toEqual({
      bytes,
      read: 0,
      skipped: expect.stringMatching(/exceed a quarter of memory/),
    });
    expect(await prewarmLanceIndex('s3://bucket/set/lancedb', LANCE_TABLE)).toMatchObject({ read: 0, skipped: 'object store' });
    // Stopped (the store closed): no further reads.
    expect(await prewarmLanceIndex(join(dir, 'lancedb'), LANCE_TABLE, { stop: () => true })).toEqual({ bytes, read: 0 });
  });

  it('reads the stored vectors and the catalog as the exact index does', () => {
    for (const r of [0, 2047, 2048, 6399]) expect(lance.vector(r)).toEqual(exact.vector(r));
    expect(lance.lookup('img-2')).toEqual(exact.lookup('img-2'));
    expect(Array.from(lance.positionOf.subarray(0, exact.size))).toEqual(Array.from(exact.positionOf.subarray(0, exact.size)));
  });

  it('scans rows added after the build exactly, and says so', async () => {
    const indexDir = join(dir, 'index');
    expect(await describeStore(indexDir)).toEqual({ store: 'lancedb', reason: `LanceDB, ${exact.size} rows in its table` });
    const extra = clusteredVectors(100, D, 3, 0.06, 9).vectors;
    await exact.append({
      image: 'img-new',
      gridWidth: 10,
      gridHeight: 10,
      positions: Uint32Array.from({ length: 100 }, (_, p) => p),
      vectors: extra,
    });
    const grown = (await openSearchIndex(indexDir, dir)) as LanceIndex;
    try {
      expect(grown.tailRows).toBe(100);
      const q = exact.vector(exact.size - 7);
      const got = await grown.searchAsync(q, 5);
      expect(got).toEqual(exact.search(q, 5));
      expect(got[0]).toMatchObject({ image: 'img-new', x: 3, y: 9 });
      expect((await describeStore(indexDir)).reason).toBe(
        `LanceDB, ${exact.size - 100} rows in its table; 100 rows added since are scanned exactly until dinoscope index is run again`,
      );
    } finally {
      grown.close();
    }
  });
});

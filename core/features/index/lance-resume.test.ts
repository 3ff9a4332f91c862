// A LanceDB build that dies part way resumes: the rows already in its table are kept, the rest appended, the
// index trained once, and the finished table holds every row exactly once. Real LanceDB, real files; the build
// is stopped by its own progress callback throwing at the point a kill would leave it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { readPendingBuild } from './build-resume.js';
import type { ExactIndex } from './exact.js';
import { buildLanceStore } from './lance-build.js';
import type { LanceIndex } from './lance-index.js';
import { loadLanceDb } from './lancedb.js';
import { oneImageIndex } from './one-image-index.js';
import { openSearchIndex } from './open.js';
import { readStoreRecord } from './store.js';

const D = 32;
const ROWS = 3000; // above the 1024 rows that get a vector index
const BATCH = 1024;

let dir: string;
let indexDir: string;
let exact: ExactIndex;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-lance-resume-'));
  indexDir = join(dir, 'index');
  exact = await oneImageIndex(indexDir, D, ROWS, 4);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

class Killed extends Error {}

/** Builds until a progress line matching `at`, where the build stops as a killed process would. */
async function buildKilledAt(at: RegExp): Promise<void> {
  await expect(
    buildLanceStore(indexDir, dir, {
      partitions: 2,
      batchRows: BATCH,
      log: (l) => {
        if (at.test(l)) throw new Killed(l);
      },
    }),
  ).rejects.toBeInstanceOf(Killed);
}

async function build(): Promise<{ lines: string[] }> {
  const lines: string[] = [];
  await buildLanceStore(indexDir, dir, { partitions: 2, batchRows: BATCH, log: (l) => lines.push(l) });
  return { lines };
}

/** The `row` column of the store's table, sorted, and the type of its `vector` column. */
async function tableRows(): Promise<{ tables: string[]; rows: number[]; vectorType: string }> {
  const rec = await readStoreRecord(indexDir);
  const db = await loadLanceDb().lancedb.connect(join(dir, 'lancedb'));
  try {
    const table = await db.openTable(rec!.table);
    const got = (await table.query().select(['row']).toArray()) as { row: number }[];
    const vectorType = String((await table.schema()).fields.find((f) => f.name === 'vector')?.type);
    table.close();
    return { tables: await db.tableNames(), rows: got.map((r) => Number(r.row)).sort((a, b) => a - b), vectorType };
  } finally {
    db.close();
  }
}

async function expectComplete(): Promise<void> {
  const rec = await readStoreRecord(indexDir);
  expect(rec).toMatchObject({ store: 'lancedb', rows: ROWS, index: { type: 'IVF_RQ', partitions: 2 } });
  // One fragment per write of up to BATCH rows, in row order, however the build was interrupted.
  expect(rec!.fragments).toEqual([
    [0, 0],
    [1, 1024],
    [2, 2048],
  ]);
  const { tables, rows, vectorType } = await tableRows();
  expect(tables).toEqual([rec!.table]);
  // float32: LanceDB trains the IVF index in the column's type, and 20× slower from float16.
  expect(vectorType).toBe(`FixedSizeList[${D}]<Float32>`);
  expect(rows).toEqual(Array.from({ length: ROWS }, (_, i) => i));
  expect(await readPendingBuild(indexDir)).toBeNull();
  const idx = (await openSearchIndex(indexDir, dir)) as LanceIndex;
  try {
    for (const r of [5, 1500, 2999]) {
      const q = exact.vector(r);
      expect((await idx.searchAsync(q, 5)).map((h) => h.row)).toEqual(exact.search(q, 5).map((h) => h.row));
    }
  } finally {
    idx.close();
  }
}

describe('an interrupted LanceDB build', () => {
  it('resumes streaming from the rows its table already holds', async () => {
    await buildKilledAt(/1024 of 3000 rows written/);
    expect(await readStoreRecord(indexDir)).toBeNull();
    expect((await readPendingBuild(indexDir))?.partitions).toBe(2);
    const { lines } = await build();
    expect(lines).toContain('LanceDB: resuming an interrupted build: 1024 of 3000 rows are already in its table.');
    expect(lines.filter((l) => l.includes('rows written'))).toEqual([
      'LanceDB: 2048 of 3000 rows written.',
      'LanceDB: 3000 of 3000 rows written.',
    ]);
    await expectComplete();
  }, 120_000);

  it('goes straight to training the index when every row was written', async () => {
    await buildKilledAt(/training the IVF_RQ index/);
    const { lines } = await build();
    expect(lines[0]).toBe('LanceDB: resuming an interrupted build: 3000 of 3000 rows are already in its table.');
    expect(lines.some((l) => l.includes('rows written'))).toBe(false);
    expect(lines).toContain('LanceDB: training the IVF_RQ index (2 partitions) …');
    await expectComplete();
  }, 120_000);

  it('starts over when the set changed since', async () => {
    await buildKilledAt(/1024 of 3000 rows written/);
    const stale = (await readPendingBuild(indexDir))!.table;
    // Re-extracted: same rows, new manifest (another image name); the half-built table indexes the old one.
    await rm(indexDir, { recursive: true, force: true });
    exact = await oneImageIndex(indexDir, D, ROWS, 9, 'img-new');
    const { lines } = await build();
    expect(lines.some((l) => l.includes('resuming'))).toBe(false);
    expect((await readStoreRecord(indexDir))!.table).not.toBe(stale);
    await expectComplete();
  }, 120_000);

  it('starts over from a build that wrote float16 vectors (a version-1 record)', async () => {
    await buildKilledAt(/1024 of 3000 rows written/);
    const path = join(indexDir, 'lance-build.json');
    const pending = JSON.parse(await readFile(path, 'utf8')) as { version: number; table: string };
    await writeFile(path, JSON.stringify({ ...pending, version: 1 }));
    const { lines } = await build();
    expect(lines.some((l) => l.includes('resuming'))).toBe(false);
    expect((await readStoreRecord(indexDir))!.table).not.toBe(pending.table);
    await expectComplete();
  }, 120_000);
});

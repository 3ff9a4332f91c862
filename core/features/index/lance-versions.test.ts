// Re-indexing a set into LanceDB leaves one table's bytes on disk: LanceDB keeps every version of a table,
// so each build writes its own table and drops the previous one (lance-build.ts). Real LanceDB, real files.
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExactIndex } from './exact.js';
import { buildLanceStore } from './lance-build.js';
import type { LanceIndex } from './lance-index.js';
import { loadLanceDb } from './lancedb.js';
import { oneImageIndex } from './one-image-index.js';
import { openSearchIndex } from './open.js';

const D = 64;
const ROWS = 3000; // above the 1024 rows that get a vector index, so each build trains one

function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return total;
}

let dir: string;
let indexDir: string;
let exact: ExactIndex;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-lance-versions-'));
  indexDir = join(dir, 'index');
  exact = await oneImageIndex(indexDir, D, ROWS, 3);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('re-indexing into LanceDB', () => {
  it('does not grow the folder beyond one build, and the store still searches', async () => {
    const first = await buildLanceStore(indexDir, dir, { partitions: 2 });
    const once = du(join(dir, 'lancedb'));
    let last = first;
    for (let i = 0; i < 3; i++) last = await buildLanceStore(indexDir, dir, { partitions: 2 });
    const after = du(join(dir, 'lancedb'));
    // One build's bytes, with a margin for manifests; the old code's overwrite kept every version (×4).
    expect(after).toBeLessThan(once * 1.25);
    expect(last.table).not.toBe(first.table);
    const db = await loadLanceDb().lancedb.connect(join(dir, 'lancedb'));
    expect(await db.tableNames()).toEqual([last.table]);
    db.close();
    const idx = (await openSearchIndex(indexDir, dir)) as LanceIndex;
    try {
      const q = exact.vector(17);
      expect((await idx.searchAsync(q, 5))[0].row).toBe(exact.search(q, 5)[0].row);
    } finally {
      idx.close();
    }
  }, 180_000);

  it('drops a table an interrupted build left behind', async () => {
    const { lancedb, arrow } = loadLanceDb();
    const db = await lancedb.connect(join(dir, 'lancedb'));
    const schema = new arrow.Schema([new arrow.Field('row', new arrow.Uint32(), false)]);
    (await db.createEmptyTable('vectors-interrupted', schema)).close();
    const rec = await buildLanceStore(indexDir, dir, { partitions: 2 });
    expect(await db.tableNames()).toEqual([rec.table]);
    db.close();
  }, 180_000);
});

// LanceDB and Apache Arrow as installed: one copy of apache-arrow in the tree (a second one makes LanceDB
// silently store 0 rows), the one LanceDB itself requires is the one we build tables with, and a table
// written through loadLanceDb holds its rows. Also the store choice by size (store.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLanceDb, requireLanceDb } from './lancedb.js';
import { ExactIndex } from './exact.js';
import { describeStore, memoryIndexBytes, memoryIndexLimit, resolveStore } from './store.js';

/** Every folder under node_modules whose package.json names `name`. */
function copiesOf(name: string, dir = 'node_modules', out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    try {
      if ((JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name?: string }).name === name) out.push(p);
    } catch {
      // not a package folder (a scope, or a folder inside one)
    }
    if (e.name === 'node_modules' || e.name.startsWith('@') || dir.endsWith('node_modules')) copiesOf(name, p, out);
  }
  return out;
}

describe('LanceDB and Arrow', () => {
  it('the tree holds one apache-arrow, and it is the one LanceDB requires', () => {
    expect(copiesOf('apache-arrow')).toEqual([join('node_modules', 'apache-arrow')]);
    const require = createRequire(import.meta.url);
    const lanceMain = require.resolve('@lancedb/lancedb'); // node_modules/@lancedb/lancedb/dist/index.js
    expect(createRequire(lanceMain).resolve('apache-arrow')).toBe(require.resolve('apache-arrow'));
  });

  it('a table written with the loaded Arrow holds its rows and finds them', async () => {
    const { lancedb, arrow } = loadLanceDb();
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-arrow-'));
    try {
      const db = await lancedb.connect(dir);
      const type = new arrow.FixedSizeList(4, new arrow.Field('item', new arrow.Float32(), true));
      const schema = new arrow.Schema([new arrow.Field('row', new arrow.Uint32(), false), new arrow.Field('vector', type, false)]);
      const rows = arrow.makeData({ type: new arrow.Uint32(), length: 3, data: Uint32Array.of(0, 1, 2) });
      const values = arrow.makeData({ type: new arrow.Float32(), length: 12, data: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0) });
      const vectors = arrow.makeData({ type, length: 3, child: values });
      const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: 3, children: [rows, vectors] });
      const table = await db.createEmptyTable('t', schema);
      await table.add(new arrow.Table([new arrow.RecordBatch(schema, struct)]) as unknown as Parameters<typeof table.add>[0]);
      expect(await table.countRows()).toBe(3);
      const hit = await table
        .vectorSearch(Float32Array.of(0, 1, 0, 0))
        .distanceType('dot')
        .limit(1)
        .toArray();
      expect((hit[0] as { row: number }).row).toBe(1);
      table.close();
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('store choice', () => {
  it('keeps a set in memory up to the limit and picks LanceDB above it', () => {
    const perRow = memoryIndexBytes(1, 384);
    expect(perRow).toBe(384 + 12);
    expect(resolveStore('auto', 1000, 384, 1000 * perRow).store).toBe('memory');
    expect(resolveStore('auto', 1001, 384, 1000 * perRow)).toEqual({
      store: 'lancedb',
      reason: 'LanceDB: 1001 rows would need 0.00 GB of RAM in memory, above the 0.00 GB limit',
    });
    expect(resolveStore('memory', 1e9, 384, 0).store).toBe('memory');
    expect(resolveStore('lancedb', 1, 384).store).toBe('lancedb');
  });

  it('takes the limit from DINOSCOPE_MEMORY_INDEX_MAX_BYTES, else a quarter of RAM capped at 3.5 GiB', () => {
    expect(memoryIndexLimit({ DINOSCOPE_MEMORY_INDEX_MAX_BYTES: '12345' })).toBe(12345);
    const def = memoryIndexLimit({});
    expect(def).toBeGreaterThan(0);
    expect(def).toBeLessThanOrEqual(3.5 * 2 ** 30);
    expect(() => memoryIndexLimit({ DINOSCOPE_MEMORY_INDEX_MAX_BYTES: 'lots' })).toThrow(/must be a number of bytes, got "lots"/);
  });
});

describe('the store stated after extraction', () => {
  it('says when a set in memory is above the limit, and what to run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-store-'));
    try {
      const idx = await ExactIndex.create(dir, 8);
      await idx.append({
        image: 'a',
        gridWidth: 4,
        gridHeight: 1,
        positions: Uint32Array.of(0, 1, 2, 3),
        vectors: new Float32Array(32).fill(1),
      });
      expect(await describeStore(dir, 1e6)).toEqual({
        store: 'memory',
        reason: 'in-memory index: 4 rows need 0.00 GB of RAM, within the 0.00 GB limit',
      });
      expect(await describeStore(dir, 10)).toEqual({
        store: 'memory',
        reason: 'LanceDB: 4 rows would need 0.00 GB of RAM in memory, above the 0.00 GB limit: run dinoscope index to index it in LanceDB',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('LanceDB missing', () => {
  it('is refused in plain words that say what to do', async () => {
    // A require from a folder with no node_modules: LanceDB is not there, as where its native module failed.
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-nolance-'));
    try {
      let err: unknown;
      try {
        requireLanceDb(createRequire(join(dir, 'x.js')));
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'UNSUPPORTED' });
      expect((err as Error).message).toMatch(
        /^The LanceDB vector store could not be loaded on this computer \(Cannot find module '@lancedb\/lancedb'.*\)\. Use the in-memory index instead \(dinoscope index --store memory\), or reinstall Dinoscope/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

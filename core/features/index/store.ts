// Which store a feature set's search index is searched from, and the record of that choice.
//
// The in-memory index (exact.ts) holds every row resident: stride (dim rounded up to 16) int8 bytes plus
// 12 bytes of scale, image and position a row, 396 bytes for 384 dims, about 4 GB per 10 M rows (and a
// wasm32 memory caps it at 4 GiB). Above a limit the set is indexed in LanceDB instead (lance-index.ts),
// which keeps only the 12 bytes a row resident. `auto` picks memory while
//   rows · (stride + 12) ≤ min(¼ of this machine's RAM, 3.5 GiB)
// and LanceDB above it. DINOSCOPE_MEMORY_INDEX_MAX_BYTES replaces that limit (tests, or a machine shared
// with other work).
//
// The record, `store.json` in the index folder: {format: "dinoscope-index-store", version: 1, store,
// uri (LanceDB only: null = the set's own `lancedb/` folder, else the URL given), table, rows (rows in the
// LanceDB table), index ({type, partitions} or null when the table is small enough to scan), builtAt,
// fragments (optional: [LanceDB fragment id, its first index row] pairs)}.
// No record: the in-memory index.
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { META_BYTES, readIndexManifest } from './catalog.js';
import { strideFor } from './rows.js';
import type { IndexStore } from './search-index.js';

export type StoreChoice = IndexStore | 'auto';

export interface StoreRecord {
  format: 'dinoscope-index-store';
  version: 1;
  store: IndexStore;
  uri: string | null;
  table: string;
  rows: number;
  index: { type: 'IVF_RQ'; partitions: number } | null;
  builtAt: string;
  /** LanceDB only: [fragment id, first index row] of each of the table's fragments (lance-fragments.ts), so
   * queries map LanceDB's row ids to index rows; absent in stores built before (queries then read the `row`
   * column) or when a fragment did not hold one run of rows. */
  fragments?: [number, number][];
}

export const WASM_ROWS_MAX = 3.5 * 2 ** 30;

/** Bytes the in-memory index of `rows` rows of `dim` holds resident. */
export const memoryIndexBytes = (rows: number, dim: number): number => rows * (strideFor(dim) + META_BYTES);

/** The most bytes the in-memory index may take before `auto` picks LanceDB. */
export function memoryIndexLimit(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new DinoscopeError('BAD_INPUT', `DINOSCOPE_MEMORY_INDEX_MAX_BYTES must be a number of bytes, got "${v}".`);
    return n;
  }
  return Math.min(totalmem() / 4, WASM_ROWS_MAX);
}

/** The store for a set of `rows` × `dim` under `choice`, and why, in words. */
export function resolveStore(
  choice: StoreChoice,
  rows: number,
  dim: number,
  limit = memoryIndexLimit(),
): { store: IndexStore; reason: string } {
  const need = memoryIndexBytes(rows, dim);
  const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;
  if (choice !== 'auto') return { store: choice, reason: `${choice === 'memory' ? 'in-memory index' : 'LanceDB'}, as asked` };
  return need <= limit
    ? { store: 'memory', reason: `in-memory index: ${rows} rows need ${gb(need)} of RAM, within the ${gb(limit)} limit` }
    : { store: 'lancedb', reason: `LanceDB: ${rows} rows would need ${gb(need)} of RAM in memory, above the ${gb(limit)} limit` };
}

export const storeRecordPath = (indexDir: string): string => join(indexDir, 'store.json');

/** The store record of an index folder, or null (the in-memory index). */
export async function readStoreRecord(indexDir: string): Promise<StoreRecord | null> {
  const path = storeRecordPath(indexDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let r: StoreRecord;
  try {
    r = JSON.parse(text) as StoreRecord;
  } catch (e) {
    throw new DinoscopeError('CORRUPT', `${path}: not valid JSON (${(e as Error).message}); run dinoscope index again to rewrite it.`);
  }
  if (r.format !== 'dinoscope-index-store' || r.version !== 1)
    throw new DinoscopeError('UNSUPPORTED', `${path}: not a version 1 index store record; run dinoscope index again to rewrite it.`);
  return r;
}

export async function writeStoreRecord(indexDir: string, record: StoreRecord): Promise<void> {
  await writeFileAtomic(storeRecordPath(indexDir), JSON.stringify(record, null, 1));
}

/** Where the LanceDB database of a set lives: the URL given, else `<setDir>/lancedb`. */
export function lanceUri(setDir: string, uri: string | null): string {
  if (uri === null) return join(setDir, 'lancedb');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || isAbsolute(uri)) return uri;
  return join(setDir, uri);
}

/**
 * Where the index in `indexDir` is searched from now, in words for the user: its record's store, or memory
 * when it has none, with what to do when `auto` would move it to LanceDB (dinoscope index builds that).
 */
export async function describeStore(indexDir: string, limit = memoryIndexLimit()): Promise<{ store: IndexStore; reason: string }> {
  const m = await readIndexManifest(indexDir);
  const record = await readStoreRecord(indexDir);
  if (record?.store === 'lancedb') {
    const tail = m.rows - record.rows;
    return {
      store: 'lancedb',
      reason: `LanceDB, ${record.rows} rows in its table${tail > 0 ? `; ${tail} rows added since are scanned exactly until dinoscope index is run again` : ''}`,
    };
  }
  const auto = resolveStore('auto', m.rows, m.dim, limit);
  return auto.store === 'memory' ? auto : { store: 'memory', reason: `${auto.reason}: run dinoscope index to index it in LanceDB` };
}

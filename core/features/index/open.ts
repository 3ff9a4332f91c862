// Opens a feature set's search index from the store its record names (store.ts): LanceDB when
// `dinoscope index` built one, else the in-memory exact index. A set too large for memory that has no
// LanceDB store yet is refused with the command that builds one.
import { DinoscopeError } from '../../common/errors.js';
import { readIndexManifest } from './catalog.js';
import { ExactIndex } from './exact.js';
import { LanceIndex } from './lance-index.js';
import type { SearchIndex } from './search-index.js';
import { memoryIndexBytes, readStoreRecord, WASM_ROWS_MAX } from './store.js';

export async function openSearchIndex(indexDir: string, setDir: string): Promise<SearchIndex> {
  const record = await readStoreRecord(indexDir);
  if (record?.store === 'lancedb') return LanceIndex.openStore(indexDir, setDir, record);
  const m = await readIndexManifest(indexDir);
  const need = memoryIndexBytes(m.rows, m.dim);
  if (need > WASM_ROWS_MAX)
    throw new DinoscopeError(
      'TOO_LARGE',
      `This feature set's index (${m.rows} patches, ${(need / 1e9).toFixed(1)} GB) is too large to search in memory. Index it in LanceDB once: dinoscope index --project <project> --store lancedb.`,
    );
  return ExactIndex.open(indexDir);
}

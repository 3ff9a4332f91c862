// The one loader of LanceDB (@lancedb/lancedb) and its Apache Arrow: loaded on first use only, so nothing
// else pays for the native module, and a platform where it fails to load still runs everything but the
// LanceDB store (the error says what to do).
// Both come through one CommonJS require: @lancedb/lancedb is CommonJS and requires apache-arrow itself,
// and Arrow's classes are checked with instanceof, so the tables we build must come from that same
// instance. An ESM `import 'apache-arrow'` loads Arrow's separate .mjs build, a second instance whose
// tables LanceDB refuses ("schemas must be equivalent"); a second copy of the package in node_modules
// silently gives empty tables. lancedb.test.ts checks both.
import { createRequire } from 'node:module';
import { DinoscopeError } from '../../common/errors.js';

export type LanceDb = typeof import('@lancedb/lancedb');
export type Arrow = typeof import('apache-arrow');

let loaded: { lancedb: LanceDb; arrow: Arrow } | null = null;

/** LanceDB and the Arrow instance it uses; a plain-words error when the native module does not load. */
export function loadLanceDb(): { lancedb: LanceDb; arrow: Arrow } {
  // LanceDB's own warnings (e.g. "No existing dataset … it will be created" on every new table) would
  // land on the CLI's stderr between our progress lines; its errors still do. Read once, at load.
  process.env.LANCEDB_LOG ??= 'error';
  return (loaded ??= requireLanceDb(createRequire(import.meta.url)));
}

/** Both packages through `require` (loadLanceDb's, or a test's), or the error to show. */
export function requireLanceDb(require: (id: string) => unknown): { lancedb: LanceDb; arrow: Arrow } {
  try {
    return { lancedb: require('@lancedb/lancedb') as LanceDb, arrow: require('apache-arrow') as Arrow };
  } catch (e) {
    throw new DinoscopeError(
      'UNSUPPORTED',
      `The LanceDB vector store could not be loaded on this computer (${(e as Error).message.split('\n')[0]}). ` +
        'Use the in-memory index instead (dinoscope index --store memory), or reinstall Dinoscope so that the ' +
        `@lancedb/lancedb package's native module for ${process.platform}-${process.arch} is present.`,
    );
  }
}

// `dinoscope index --project P [--set S] [--store lancedb|memory|auto] [--uri URL]`: builds a feature
// set's search index from its stores (once after `dinoscope extract --shard I/N` runs, docs/cluster.md), and
// chooses where it is searched from: in memory, or LanceDB for sets beyond RAM (core/features/index/store.ts;
// auto by the RAM the in-memory index would need). The set: --set, else the active set, else the only one.
// Progress on stderr; JSON {featureSet, images, incomplete, rows, store, storeReason, seconds} on stdout.
// Exits 1 when some image's features are incomplete (rerun its shard, then this).
import { openProjectFlag } from '../analysis.js';
import { buildIndex } from '../../features/extract/index-build.js';
import { checkFlags, flagValue, parseArgs, type Command } from '../command.js';
import { DinoscopeError } from '../../common/errors.js';
import type { StoreChoice } from '../../features/index/store.js';

const STORES: readonly StoreChoice[] = ['auto', 'memory', 'lancedb'];

export const indexCommand: Command = {
  name: 'index',
  flags: ['project', 'set', 'store', 'uri'],
  summary: "build a feature set's search index (after sharded extraction, or to move it to LanceDB)",
  usage:
    'usage: dinoscope index --project P [--set S] [--store auto|memory|lancedb] [--uri URL]\n\n' +
    "Adds every image with complete features in set S (default: the active set, or the only one) to the set's\n" +
    "search index, in the project's image order; rows already there are kept. Run it once after all\n" +
    '`dinoscope extract --shard I/N` runs finished (a plain `dinoscope extract` builds the index itself).\n\n' +
    '--store: where the set is searched from. memory keeps every row in RAM (fastest; about 400 bytes a\n' +
    'patch); lancedb indexes it in LanceDB and keeps 12 bytes a patch in RAM (sets beyond RAM); auto\n' +
    "(default) picks memory while it needs at most a quarter of this computer's RAM (and 3.5 GB), else lancedb\n" +
    '(DINOSCOPE_MEMORY_INDEX_MAX_BYTES sets that limit). --uri: the LanceDB database, a folder or an\n' +
    "s3://, gs:// or az:// URL (default: the set's own lancedb folder); implies --store lancedb.\n" +
    'Prints JSON {featureSet, images, incomplete, rows, store, storeReason, seconds}; exits 1 when some\n' +
    'images are incomplete.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'set', 'store', 'uri'], 'index');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const store = flagValue(flags, 'store');
    if (store !== undefined && !STORES.includes(store as StoreChoice))
      throw new DinoscopeError('BAD_INPUT', `--store must be auto, memory or lancedb, got "${store}".`);
    const uri = flagValue(flags, 'uri');
    if (uri !== undefined && uri.trim() === '')
      throw new DinoscopeError('BAD_INPUT', '--uri needs a folder or an s3://, gs:// or az:// URL.');
    const project = await openProjectFlag(flags);
    const summary = await buildIndex(project, flagValue(flags, 'set'), (line) => io.stderr(`${line}\n`), {
      ...(store !== undefined && { store: store as StoreChoice }),
      ...(uri !== undefined && { uri }),
    });
    io.stdout(JSON.stringify(summary, null, 2) + '\n');
    if (summary.incomplete.length) {
      io.stderr(
        `index: ${summary.incomplete.length} image(s) have incomplete features and are not in the index; rerun their extraction, then dinoscope index.\n`,
      );
      return 1;
    }
    return 0;
  },
};

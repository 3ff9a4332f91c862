// `dinoscope index --project P [--set S]`: builds a feature set's search index from its stores, once,
// after `dinoscope extract --shard I/N` runs extracted it without one (docs/cluster.md). The set: --set,
// else the active set, else the only one. Progress on stderr; JSON {featureSet, images, incomplete, rows,
// seconds} on stdout. Exits 1 when some image's features are incomplete (rerun its shard, then this).
import { openProjectFlag } from '../analysis.js';
import { buildIndex } from '../../features/extract/index-build.js';
import { checkFlags, flagValue, parseArgs, type Command } from '../command.js';
import { DinoscopeError } from '../../common/errors.js';

export const indexCommand: Command = {
  name: 'index',
  flags: ['project', 'set'],
  summary: "build a feature set's search index after sharded extraction",
  usage:
    'usage: dinoscope index --project P [--set S]\n\n' +
    "Adds every image with complete features in set S (default: the active set, or the only one) to the set's\n" +
    "search index, in the project's image order; rows already there are kept. Run it once after all\n" +
    '`dinoscope extract --shard I/N` runs finished (a plain `dinoscope extract` builds the index itself).\n' +
    'Prints JSON {featureSet, images, incomplete, rows, seconds}; exits 1 when some images are incomplete.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'set'], 'index');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const project = await openProjectFlag(flags);
    const summary = await buildIndex(project, flagValue(flags, 'set'), (line) => io.stderr(`${line}\n`));
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

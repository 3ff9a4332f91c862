// `dinoscope search --project P --image I --x X --y Y [--k K] [--set S]`: the best-matching distinct
// regions over the collection for the patch under level-0 pixel (X, Y) of image I (id or file name).
import type { AnalysisMatch } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { checkFlags, flagNumber, flagValue, imageIdOf, openAnalysis } from '../../analysis/cli.js';
import { parseArgs, type Command } from '../command.js';

export const searchCommand: Command = {
  name: 'search',
  summary: 'find the regions of the collection most similar to a patch',
  usage: 'usage: dinoscope search --project P --image I --x X --y Y [--k K] [--set FEATURESET]\n\nPrints JSON {query, matches: [{imageId, name, x, y, score}], ms} on stdout (x, y: level-0 pixels).',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'image', 'x', 'y', 'k', 'set'], 'search');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const image = flagValue(flags, 'image');
    const x = flagNumber(flags, 'x', false);
    const y = flagNumber(flags, 'y', false);
    if (image === undefined || x === undefined || y === undefined) throw new DinoscopeError('BAD_INPUT', 'needs --image I --x X --y Y (level-0 pixels).');
    const service = await openAnalysis(flags);
    const imageId = imageIdOf(service, image);
    io.stderr('search: loading the index…\n');
    const r = await service.similarityQuery({ imageId, points: [{ x, y }], k: flagNumber(flags, 'k', true) ?? 10, featureSet: flagValue(flags, 'set') });
    const matches = r.matches.map((m: AnalysisMatch) => ({ imageId: m.imageId, name: m.name, x: Math.round(m.x), y: Math.round(m.y), score: m.score }));
    io.stdout(JSON.stringify({ query: { imageId, x, y, patches: r.queryPatches }, matches, ms: Math.round(r.ms) }, null, 2) + '\n');
    return 0;
  },
};

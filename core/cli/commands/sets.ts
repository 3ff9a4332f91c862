// `dinoscope sets [list|use|delete] --project P [--set S]`: the project's feature sets (one model at one
// resolution each) with their coverage, which one the analyses use (the active set), choosing it, and
// deleting a set's stores and index. JSON on stdout.
import { DinoscopeError } from '../../common/errors.js';
import { resolutionText } from '../../common/feature-set-text.js';
import { openProjectFlag } from '../analysis.js';
import { deleteFeatureSet, listFeatureSets, useFeatureSet } from '../../features/sets.js';
import { checkFlags, flagValue, parseArgs, type Command } from '../command.js';

const ACTIONS = ['list', 'use', 'delete'];

export const setsCommand: Command = {
  name: 'sets',
  summary: 'list the feature sets of a project, choose the active one, delete one',
  usage:
    'usage: dinoscope sets [list] --project P\n' +
    '       dinoscope sets use --project P --set S      the analyses (search, pca, segment, export, the app) use S\n' +
    "       dinoscope sets delete --project P --set S   deletes S's feature stores and index\n\n" +
    'list prints JSON [{id, modelId, mpp, level, imagesWithFeatures, images, patches, createdAt, updatedAt, active, …}];\n' +
    'use and delete print the list after the change. A new extraction becomes active only when no set is.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'set'], 'sets');
    const action = positional[0] ?? 'list';
    if (!ACTIONS.includes(action) || positional.length > 1)
      throw new DinoscopeError(
        'BAD_INPUT',
        `unexpected argument "${positional[positional.length > 1 ? 1 : 0]}" (sets takes list, use or delete).`,
      );
    const project = await openProjectFlag(flags);
    const set = flagValue(flags, 'set');
    if (action !== 'list' && set === undefined)
      throw new DinoscopeError('BAD_INPUT', `sets ${action} needs --set S (a feature set id; dinoscope sets --project P lists them).`);
    if (action === 'use') await useFeatureSet(project, set!);
    if (action === 'delete') await deleteFeatureSet(project, set!);
    const sets = listFeatureSets(project);
    for (const s of sets)
      io.stderr(
        `${s.active ? '*' : ' '} ${s.id}: model ${s.modelId}, ${resolutionText(s)}, ${s.imagesWithFeatures}/${s.images} images, ${s.patches} patches, ${s.updatedAt}\n`,
      );
    if (sets.length === 0) io.stderr('no feature sets: extract features first (dinoscope extract).\n');
    io.stdout(JSON.stringify(sets, null, 2) + '\n');
    return 0;
  },
};

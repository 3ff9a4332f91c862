// `dinoscope curate --project P [--set S] …`: a curated training set for the collection (core/features/curation):
// tiles embedded by the feature set, near-duplicates removed, hierarchical k-means, balanced sampling with a
// cap per image (sampling weights over every distinct tile, or --tiles N of them). Writes
// cache/curation/<name>.json, which `dinoscope pretrain --data curated` samples from.
import { DinoscopeError } from '../../common/errors.js';
import { curate } from '../../features/curation/curate.js';
import { openProjectFlag } from '../analysis.js';
import { checkFlags, type Command, flagNumber, flagValue, parseArgs } from '../command.js';

const FLAGS = ['project', 'set', 'name', 'tiles', 'tile-patches', 'dedup', 'levels', 'image-cap', 'seed'] as const;

export const curateCommand: Command = {
  name: 'curate',
  flags: FLAGS,
  summary: 'pick a balanced, deduplicated set of training tiles from the collection (DINOv2-style curation)',
  usage:
    'usage: dinoscope curate --project P [--set S] [--name curated] [--tiles N] [--tile-patches 14] [--dedup 0.98]\n' +
    '                        [--levels K1,K2] [--image-cap F] [--seed N]\n\n' +
    "Cuts every image's feature grid (set S: default the active set) into tiles of --tile-patches patches a side,\n" +
    'removes near-duplicate tiles (cosine ≥ --dedup) and clusters the rest with hierarchical k-means (--levels,\n' +
    'bottom first; default about √n then n^¼). Every distinct tile is kept with a sampling weight that gives\n' +
    'each cluster an equal share of the draws, at most --image-cap of them from one image; with --tiles N a\n' +
    'fixed subset of N tiles is picked evenly over the clusters instead. Writes cache/curation/NAME.json in the project;\n' +
    '`dinoscope pretrain --data curated` trains on it. Prints JSON {path, candidates, duplicates, picked,\n' +
    'levels, clustersBefore, clustersAfter, seconds}.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, FLAGS, 'curate');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const levels = flagValue(flags, 'levels')
      ?.split(',')
      .map((s) => {
        const k = Number(s.trim());
        if (!Number.isInteger(k) || k < 1)
          throw new DinoscopeError('BAD_INPUT', `--levels must be whole numbers ≥ 1, bottom first (e.g. 64,8), got "${s}".`);
        return k;
      });
    const dedupThreshold = flagNumber(flags, 'dedup', false, true);
    const perImageCap = flagNumber(flags, 'image-cap', false, true);
    if (dedupThreshold !== undefined && dedupThreshold > 1)
      throw new DinoscopeError('BAD_INPUT', `--dedup is a cosine similarity in (0, 1], got ${dedupThreshold}.`);
    if (perImageCap !== undefined && perImageCap > 1)
      throw new DinoscopeError('BAD_INPUT', `--image-cap is a fraction in (0, 1], got ${perImageCap}.`);
    const project = await openProjectFlag(flags);
    const summary = await curate(
      project,
      {
        set: flagValue(flags, 'set'),
        name: flagValue(flags, 'name'),
        target: flagNumber(flags, 'tiles', true, true),
        tilePatches: flagNumber(flags, 'tile-patches', true, true),
        dedupThreshold,
        levels,
        perImageCap,
        seed: flagNumber(flags, 'seed', true),
      },
      (line) => io.stderr(`${line}\n`),
    );
    io.stdout(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};

// `dinoscope export-training --project P --recipe dinov2|dinov3 [--out DIR] [--mpp X | --level L] [--data all|curated[:NAME]]
// [--tile-size N] [--mask M] [--arch A] [--batch B] [--epochs E] [--epoch-length N]`: the project's foreground
// tiles, a config for the official trainer, its dataset adapter and README.txt with the commands
// (core/train/handoff). Progress on stderr; JSON {dir, files, tiles, images, commands, …} on stdout.
import { readTileList } from '../../data/train/tile-list.js';
import { curatedTilesPath } from '../../features/curation/curated-tiles.js';
import { DinoscopeError } from '../../common/errors.js';
import { MASK_SETTINGS, type MaskSetting } from '../../common/foreground-mask.js';
import { exportTraining } from '../../train/handoff/export.js';
import { ARCHS, RECIPES, type Arch, type Recipe } from '../../train/handoff/recipe-config.js';
import { openProjectFlag } from '../analysis.js';
import { checkFlags, flagNumber, flagValue, parseArgs, type Command } from '../command.js';

const FLAGS = ['project', 'recipe', 'out', 'mpp', 'level', 'data', 'tile-size', 'mask', 'arch', 'batch', 'epochs', 'epoch-length'];

function choice<T extends string>(flags: ReturnType<typeof parseArgs>['flags'], name: string, values: readonly T[], fallback?: T): T {
  const v = flagValue(flags, name) ?? fallback;
  if (v === undefined) throw new DinoscopeError('BAD_INPUT', `needs --${name}, one of ${values.join(', ')}.`);
  if (!(values as readonly string[]).includes(v))
    throw new DinoscopeError('BAD_INPUT', `--${name} must be one of ${values.join(', ')}, got "${v}".`);
  return v as T;
}

export const exportTrainingCommand: Command = {
  name: 'export-training',
  summary: "hand a project's training to the official DINOv2 / DINOv3 trainer: tile list, config, dataset adapter, commands",
  usage:
    'usage: dinoscope export-training --project P --recipe dinov2|dinov3 [--out DIR] [--mpp X | --level L] [--data all|curated[:NAME]]\n' +
    '         [--tile-size N] [--mask auto|off|brightfield|fluorescence] [--arch vit_small|vit_base|vit_large]\n' +
    '         [--batch B] [--epochs E] [--epoch-length N]\n\n' +
    "Writes to DIR (default <project>/exports/training-<recipe>-<time>): tiles.csv (the collection's foreground\n" +
    'tiles of N × N pixels (default 224) at X µm/px (default 0.5 when an image states its pixel size, else level 0),\n' +
    "by the project's foreground mask), config.yaml for the official trainer (default vit_large, batch 32 per GPU,\n" +
    '100 epochs of 1250 iterations), dinoscope_tiles.py (its dataset: openslide-python or tifffile) and README.txt\n' +
    '(single-node torchrun, Slurm through the official submit script, and dinoscope models import of the teacher\n' +
    'checkpoint). --data all is the whole collection; --data curated[:NAME] one tile on each square of a curated set (dinoscope curate),\n' +
    'repeated in proportion to its sampling weight when the set has weights (the official samplers draw rows equally often),\n' +
    'the set itself written beside as curated-set.json.\n' +
    'Prints JSON {recipe, dir, files, data, tiles (rows), weighting?, images, mpp, level, tileSize, commands} on stdout.',
  flags: FLAGS,
  fields: { batchPerGpu: 'batch', epochLength: 'epoch-length', tileSize: 'tile-size' },
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, FLAGS, 'export-training');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const recipe = choice<Recipe>(flags, 'recipe', RECIPES);
    const data = flagValue(flags, 'data') ?? 'all';
    const curatedName = /^curated(?::(.+))?$/.exec(data);
    if (data !== 'all' && !curatedName)
      throw new DinoscopeError('BAD_INPUT', `--data must be all, curated or curated:NAME (a list from dinoscope curate), got "${data}".`);
    const mask = choice<MaskSetting>(flags, 'mask', MASK_SETTINGS, 'auto');
    const arch = choice<Arch>(flags, 'arch', ARCHS, 'vit_large');
    const mppFlag = flagNumber(flags, 'mpp', false, true);
    const level = flagNumber(flags, 'level', true);
    if (mppFlag !== undefined && level !== undefined) throw new DinoscopeError('BAD_INPUT', 'give either --mpp or --level, not both.');
    if (level !== undefined && level < 0) throw new DinoscopeError('BAD_INPUT', `--level must be 0 or more, got ${level}.`);
    const tileSize = flagNumber(flags, 'tile-size', true, true) ?? 224;
    if (tileSize < 32 || tileSize > 4096)
      throw new DinoscopeError('BAD_INPUT', `--tile-size must be from 32 to 4096 pixels, got ${tileSize}.`);
    const batchPerGpu = flagNumber(flags, 'batch', true, true) ?? 32;
    const epochs = flagNumber(flags, 'epochs', true, true) ?? 100;
    const epochLength = flagNumber(flags, 'epoch-length', true, true) ?? 1250;
    const project = await openProjectFlag(flags);
    // Default resolution: 0.5 µm/px (about 20×) when any readable image has a pixel size, else level 0.
    const anyMpp = project.images().some((i) => i.status === 'ok' && (i.meta?.mpp || i.statedMpp));
    const mpp = mppFlag ?? (level === undefined && anyMpp ? 0.5 : undefined);
    io.stderr(
      `export-training: listing the foreground tiles of ${project.images().length} image${project.images().length === 1 ? '' : 's'}…\n`,
    );
    const setName = curatedName ? (curatedName[1] ?? 'curated') : null;
    const curated = setName !== null ? { name: setName, list: await readTileList(curatedTilesPath(project, setName)) } : undefined;
    const r = await exportTraining(project, {
      curated,
      recipe,
      out: flagValue(flags, 'out'),
      mpp,
      level,
      tileSize,
      mask,
      arch,
      batchPerGpu,
      epochs,
      epochLength,
      log: (line) => io.stderr(`${line}\n`),
    });
    io.stderr(`export-training: ${r.tiles} tiles, config and commands in ${r.dir} (README.txt says what to run).\n`);
    io.stdout(JSON.stringify(r, null, 2) + '\n');
    return 0;
  },
};

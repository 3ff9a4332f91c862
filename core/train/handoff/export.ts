// Hand-off of a project's training to the official trainers (facebookresearch/dinov2, facebookresearch/dinov3)
// on a cluster: one folder holding the tile list (tiles.csv: the collection's foreground tiles at one
// resolution, tile-list.ts), the trainer's config (config.yaml, recipe-config.ts), the dataset adapter
// (dinoscope_tiles.py, adapter-py.ts) and README.txt with the exact commands: single node with torchrun,
// Slurm through the official submit scripts, and `dinoscope models import` of the teacher checkpoint the
// run writes. From a curated set, tiles.csv holds one tile on each of its squares, repeated in proportion to
// its sampling weight when the set has weights (weighted-rows.ts: the official samplers draw rows uniformly),
// and curated-set.json is the set itself (its feature set, model, parameters and cluster sizes before and
// after), so the cluster run says what it trained on. Every file is written atomically.
import type { CuratedTiles } from '../../data/train/tile-list.js';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MaskSetting } from '../../common/foreground-mask.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { Project } from '../../project/project.js';
import { ADAPTER_FILE, ADAPTER_PY } from './adapter-py.js';
import { type Arch, type Recipe, recipeConfigYaml } from './recipe-config.js';
import { tileListCsv, trainingTiles, type TileListImage } from './tile-list.js';
import { weightedRows } from './weighted-rows.js';

export interface TrainingExportOptions {
  recipe: Recipe;
  /** Output folder (default <project>/exports/training-<recipe>-<time>). */
  out?: string;
  /** µm per tile pixel, or a pyramid level (default 0) when absent. */
  mpp?: number;
  level?: number;
  tileSize: number;
  mask?: MaskSetting;
  /** A curated set (core/features/curation) and its name: one tile on each of its squares instead of the
   * foreground grid; the set is written beside the tile list. */
  curated?: { name: string; list: CuratedTiles };
  arch: Arch;
  batchPerGpu: number;
  epochs: number;
  epochLength: number;
  log?(line: string): void;
}

export interface TrainingExport {
  recipe: Recipe;
  dir: string;
  files: { tiles: string; config: string; adapter: string; readme: string; curated?: string };
  /** 'all' (every image's foreground) or 'curated:NAME'. */
  data: string;
  /** Rows of tiles.csv (what the trainer's dataset holds). */
  tiles: number;
  /**
   * A weighted curated set: its tiles are repeated in proportion to their weights (weighted-rows.ts):
   * `distinct` tiles as `tiles` rows, `scale` rows per unit weight, `unlisted` tiles too light for a row.
   */
  weighting?: { distinct: number; scale: number; unlisted: number };
  images: TileListImage[];
  mpp: number | null;
  level: number | null;
  tileSize: number;
  /** The commands README.txt gives, to run from a clone of the recipe's repository. */
  commands: { torchrun: string; slurm: string; import: string };
}

/** The curated set an export's tiles come from, beside tiles.csv. */
export const CURATED_FILE = 'curated-set.json';

const stamp = (): string =>
  new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d+Z$/, 'Z');

/** Single-quoted for a POSIX shell. */
const sh = (s: string): string => (/^[A-Za-z0-9_./=:%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function commands(recipe: Recipe, dir: string, projectDir: string): TrainingExport['commands'] {
  const adapter = sh(join(dir, ADAPTER_FILE));
  const config = sh(join(dir, 'config.yaml'));
  const out = join(dir, 'output');
  const path = `PYTHONPATH=$PWD:${sh(dir)}`;
  const torchrun = `${path} torchrun --standalone --nproc_per_node=8 ${adapter} --recipe ${recipe} --config-file ${config} --output-dir ${sh(out)}`;
  const slurm =
    recipe === 'dinov2'
      ? `${path} python ${adapter} submit --recipe dinov2 --nodes 2 --ngpus 8 --partition PARTITION --config-file ${config} --output-dir ${sh(join(out, '%j'))}`
      : `${path} python -m dinov3.run.submit ${adapter} --callable-name dinov3_main --nodes 2 --ngpus 8 --slurm-partition PARTITION --config-file ${config} --output-dir ${sh(join(out, '%j'))}`;
  const evalDir = recipe === 'dinov2' ? 'eval/training_ITERATION' : 'eval/ITERATION';
  const imp = `dinoscope models import ${sh(join(out, evalDir, 'teacher_checkpoint.pth'))} --name ${recipe}-cluster --project ${sh(projectDir)} --location project`;
  return { torchrun, slurm, import: imp };
}

function readme(e: Omit<TrainingExport, 'files'>, projectDir: string, arch: Arch): string {
  const repo = `facebookresearch/${e.recipe}`;
  const res = e.mpp !== null ? `${e.mpp} µm per pixel` : `pyramid level ${e.level}`;
  const perImage = e.images.map(
    (i) => `  ${i.name}: ${i.tiles} of ${i.grid} tiles (${i.mask} mask${i.mpp === null ? `, no pixel size: level ${i.level}` : ''})`,
  );
  return `Training hand-off from Dinoscope to the official ${e.recipe === 'dinov2' ? 'DINOv2' : 'DINOv3'} trainer (https://github.com/${repo})

Project: ${projectDir}
Tiles:   ${e.tiles} ${e.data === 'all' ? 'foreground tiles' : e.weighting ? `rows: the ${e.weighting.distinct} tiles of the curated set "${e.data.slice('curated:'.length)}"` : `tiles of the curated set "${e.data.slice('curated:'.length)}"`} of ${e.tileSize} x ${e.tileSize} pixels at ${res}, from ${e.images.length} image${e.images.length === 1 ? '' : 's'}
${perImage.join('\n')}${
    e.weighting
      ? `
         Each tile is repeated in proportion to its sampling weight (${e.weighting.scale.toPrecision(4)} rows per unit
         weight, rounded so that every top-level cluster gets its share within one row), because the official
         samplers draw the rows of a dataset equally often: drawn uniformly, the rows give each cluster the
         share the curated set's weights give it.${e.weighting.unlisted ? ` ${e.weighting.unlisted} tiles were too light for a row of their own.` : ''}`
      : ''
  }

Files
  tiles.csv           one tile a row: path, level, x, y, size, region (read the region x region level-0
                      pixels at x, y of path and scale them to size x size)
  config.yaml         the trainer's config (${arch}, patch 16); the official loader merges it over its
                      ${e.recipe}/configs/ssl_default_config.yaml; edit batch, epochs and model there
  ${ADAPTER_FILE}  the dataset for the official trainer: reads tiles.csv with openslide-python
                      (reader=openslide) or tifffile (reader=tifffile; JPEG tiles need imagecodecs), Pillow
                      for PNG/JPEG; "auto" takes OpenSlide when it imports. Set DINOSCOPE_TILE_READER or
                      add :reader=R to train.dataset_path in config.yaml.${
                        e.data === 'all'
                          ? ''
                          : `
  ${CURATED_FILE}    the curated set the tiles come from (dinoscope curate: feature set, model,
                      parameters, tiles per cluster before and after balancing)`
                      }

Before you start
  1. git clone https://github.com/${repo} and set up its environment as its README says.
  2. The slide paths in tiles.csv must be readable from every node at the same paths (a shared file
     system); if they are mounted elsewhere, rewrite the path column.
  3. Check the tiles read: python ${sh(join(e.dir, ADAPTER_FILE))} check ${sh(join(e.dir, 'tiles.csv'))}

Run, from the root of your ${e.recipe} clone:

Single node (8 GPUs; change --nproc_per_node to your GPU count):
  ${e.commands.torchrun}

Slurm (the official submit script; set PARTITION, --nodes and --ngpus):
  ${e.commands.slurm}

The run writes the teacher's weights every evaluation period (evaluation.eval_period_iterations) to
output/${e.recipe === 'dinov2' ? 'eval/training_ITERATION' : 'eval/ITERATION'}/teacher_checkpoint.pth (under output/JOBID on Slurm).

Back in Dinoscope, import it as a project model (ITERATION: the one you want):
  ${e.commands.import}
then extract features with it (dinoscope extract --project P --model ${e.recipe}-cluster --mpp ${e.mpp ?? 'X'}) or pick it in the app.
`;
}

export async function exportTraining(project: Project, o: TrainingExportOptions): Promise<TrainingExport> {
  const dir = resolve(o.out ?? join(project.dir, 'exports', `training-${o.recipe}-${stamp()}`));
  const weighted = o.curated ? weightedRows(o.curated.list.tiles) : null;
  const { tiles, images } = await trainingTiles(project, {
    mpp: o.mpp,
    level: o.level,
    tileSize: o.tileSize,
    mask: o.mask,
    curated: o.curated?.list.tiles,
    ...(weighted?.scale != null && { curatedCopies: weighted.copies }),
    log: o.log,
  });
  const listedImages = new Set(images.map((i) => i.imageId));
  const weighting =
    weighted?.scale != null
      ? {
          distinct: o.curated!.list.tiles.filter((t, k) => listedImages.has(t.imageId) && weighted.copies[k] > 0).length,
          scale: weighted.scale,
          unlisted: weighted.unlisted,
        }
      : undefined;
  if (weighting)
    o.log?.(
      `curated set "${o.curated!.name}": ${weighting.distinct} tiles written as ${tiles.length} rows, each repeated in proportion to its sampling weight (${weighting.scale.toPrecision(4)} rows per unit weight)` +
        (weighting.unlisted ? `; ${weighting.unlisted} tiles too light for a row of their own at this list size.` : '.'),
    );
  await mkdir(dir, { recursive: true });
  const files = {
    tiles: join(dir, 'tiles.csv'),
    config: join(dir, 'config.yaml'),
    adapter: join(dir, ADAPTER_FILE),
    readme: join(dir, 'README.txt'),
    ...(o.curated ? { curated: join(dir, CURATED_FILE) } : {}),
  };
  const base = {
    recipe: o.recipe,
    dir,
    data: o.curated ? `curated:${o.curated.name}` : 'all',
    tiles: tiles.length,
    ...(weighting && { weighting }),
    images,
    mpp: o.mpp ?? null,
    level: o.mpp === undefined ? (o.level ?? 0) : null,
    tileSize: o.tileSize,
    commands: commands(o.recipe, dir, project.dir),
  };
  await writeFileAtomic(files.tiles, tileListCsv(tiles));
  if (files.curated) await writeFileAtomic(files.curated, JSON.stringify(o.curated!.list, null, 1) + '\n');
  const header = `Written by dinoscope export-training for ${project.dir} (${tiles.length} tiles).\nMerged by the official ${o.recipe} loader over ${o.recipe}/configs/ssl_default_config.yaml; README.txt has the commands.`;
  await writeFileAtomic(
    files.config,
    recipeConfigYaml(
      {
        recipe: o.recipe,
        datasetPath: `Dinoscope:root=${files.tiles}`,
        arch: o.arch,
        batchPerGpu: o.batchPerGpu,
        epochs: o.epochs,
        epochLength: o.epochLength,
        outputDir: join(dir, 'output'),
      },
      header,
    ),
  );
  await writeFileAtomic(files.adapter, ADAPTER_PY);
  await writeFileAtomic(files.readme, readme(base, project.dir, o.arch));
  return { ...base, files };
}

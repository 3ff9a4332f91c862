// The bridge from a TrainConfig to core/data/train: the batch config (multi-crop sizes, masking, seed) and
// a Prefetcher over a project's images, started at the step a run resumes from.
import { QUICK_CROPS, type MultiCropConfig } from '../data/train/augment/multicrop.js';
import { DINO_JITTER } from '../data/train/augment/color-jitter.js';
import { type BatchConfig, tileSizeFor } from '../data/train/batch.js';
import { Prefetcher } from '../data/train/prefetch.js';
import { trainingImages } from './project-images.js';
import { buildSamplingPlan } from '../data/train/sampler.js';
import { type CuratedTiles, readTileList } from '../data/train/tile-list.js';
import { curatedTilesPath } from '../features/curation/curated-tiles.js';
import { DinoscopeError } from '../common/errors.js';
import type { Project } from '../project/project.js';
import { type RngState } from '../data/train/random.js';
import { type TrainConfig, gramSide, sizeTable } from './config.js';
import { StepSizeSchedule } from './adapt-sizes.js';

/** The multi-crop recipe of the config (the reference's geometry and blur; sizes, photometric and microscopy options from c). */
export function cropsConfig(c: TrainConfig): MultiCropConfig {
  const colour = c.crops.colour;
  const s = colour.jitterStrength;
  return {
    ...QUICK_CROPS,
    globalSize: c.crops.globalSize,
    localSize: c.crops.localSize,
    localCrops: c.crops.localCrops,
    jitterP: colour.jitterP,
    jitter: {
      brightness: DINO_JITTER.brightness * s,
      contrast: DINO_JITTER.contrast * s,
      saturation: DINO_JITTER.saturation * s,
      hue: DINO_JITTER.hue * s,
    },
    grayscaleP: colour.grayscaleP,
    solarizeP: colour.solarizeP,
    microscopy: { ...c.data.microscopy },
  };
}

/** core/data/train's BatchConfig for a run whose ViT has patch size `patchSize` (Gram crops when Gram is on). */
export function batchConfig(c: TrainConfig, patchSize: number): BatchConfig {
  return {
    seed: c.seed,
    batchSize: c.batchSize,
    patchSize,
    crops: cropsConfig(c),
    masking: { maskProbability: c.masking.maskProbability, ratio: c.masking.ratio, exact: c.masking.exact },
    ...(c.gram.enabled ? { gramSize: gramSide(c, c.crops.globalSize, patchSize) } : {}),
    ...(c.model.channels !== null ? { channels: c.model.channels } : {}),
  };
}

/**
 * Crop workers over the project's images, yielding batch `startStep`, `startStep + 1`, …; with a per-step
 * size schedule (high-resolution adaptation) each batch has that step's sides and tiles leave room for the
 * largest global crop.
 */
export async function projectBatches(
  c: TrainConfig,
  patchSize: number,
  project: Project,
  startStep: number,
  log?: (line: string) => void,
  sizes?: StepSizeSchedule,
): Promise<Prefetcher> {
  const images = trainingImages(project);
  if (images.length === 0) throw new DinoscopeError('BAD_INPUT', 'The project has no images that can be trained on.');
  const crops = cropsConfig(c);
  const room = sizes ? { ...crops, globalSize: Math.max(crops.globalSize, sizes.maxGlobal) } : crops;
  const plan = await buildSamplingPlan(images, {
    tileSize: tileSizeFor(room),
    ...(c.data.mpp !== null ? { mpp: c.data.mpp } : {}),
    level: c.data.level,
    balance: c.data.balance,
    ...(c.data.tiles !== null ? { tiles: await curatedTiles(project, c.data.tiles, log) } : {}),
    ...(c.model.channels !== null ? { channels: c.model.channels } : {}),
    log,
  });
  return Prefetcher.start({
    plan,
    config: batchConfig(c, patchSize),
    startStep,
    ...(sizes ? { sizesFor: (step: number) => sizes.at(step) } : {}),
  });
}

/** The tiles of the project's curated list `name` (core/features/curation), said in the run's log. */
async function curatedTiles(project: Project, name: string, log?: (line: string) => void): Promise<CuratedTiles['tiles']> {
  const list = await readTileList(curatedTilesPath(project, name));
  const images = new Set(list.tiles.map((t) => t.imageId)).size;
  log?.(
    `data: sampling from the curated set "${name}": ${list.tiles.length} tiles on ${images} images, chosen with feature set ${list.featureSet} (${list.stats.duplicates} near-duplicates removed, ${list.stats.clustersAfter.length} clusters balanced).`,
  );
  return list.tiles;
}

/**
 * A run's batches on a project's images from `start.step` (0 for a new run) and, with a size table
 * (high-resolution adaptation), its per-step size schedule: from the seed, or from a checkpoint's sampler
 * state `start.sizes`, so a resumed run draws the same sizes.
 */
export async function projectRunData(
  c: TrainConfig,
  patchSize: number,
  project: Project,
  start: { step: number; sizes?: RngState | null },
  log?: (line: string) => void,
): Promise<{ data: Prefetcher; sizes?: StepSizeSchedule }> {
  const table = sizeTable(c, patchSize);
  const sizes = table ? new StepSizeSchedule(table, start.sizes ?? c.seed, start.sizes ? start.step : 0) : undefined;
  return { data: await projectBatches(c, patchSize, project, start.step, log, sizes), sizes };
}

/** Crop workers over image files outside any project (tests, benches): batch `startStep`, `startStep + 1`, … */
export async function fileBatches(c: TrainConfig, patchSize: number, paths: readonly string[], startStep = 0): Promise<Prefetcher> {
  const plan = await buildSamplingPlan(
    paths.map((path, i) => ({ id: `file${i}`, path })),
    {
      tileSize: tileSizeFor(cropsConfig(c)),
      ...(c.data.mpp !== null ? { mpp: c.data.mpp } : {}),
      level: c.data.level,
      balance: c.data.balance,
      ...(c.model.channels !== null ? { channels: c.model.channels } : {}),
    },
  );
  return Prefetcher.start({ plan, config: batchConfig(c, patchSize), startStep });
}

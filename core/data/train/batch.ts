// One training batch: B tiles from the sampler, multi-crop on each, block masks for the 2B global crops.
// Everything random comes from Rng.seeded(seed, step), so batch `step` is the same whichever worker makes
// it, and a resumed run continues from its step index with the batches the uninterrupted run would have seen.
import { allocCropBatch, type CropBatch, type MultiCropConfig, multiCropInto } from './augment/multicrop.js';
import { fromRgb } from './augment/image.js';
import { maskBatch, type MaskBatch, type MaskingOptions } from './masking.js';
import { Rng } from './random.js';
import type { TileSampler } from './sampler.js';

export interface BatchConfig {
  seed: number;
  batchSize: number;
  crops: MultiCropConfig;
  /** ViT patch size: the mask grid of a global crop is (G / patch)². */
  patchSize: number;
  /** Masking options other than the grid (reference defaults when absent). */
  masking?: Omit<MaskingOptions, 'gridH' | 'gridW'>;
  /** Side of the Gram teacher's crops (Gram anchoring on); absent: no Gram crops. */
  gramSize?: number;
  /** C: the images are a C-channel panel (the sampler's plan has their channel windows); absent or null: RGB. */
  channels?: number | null;
}

/** Per-step crop sides (high-resolution adaptation draws one triple per step); gram 0 = no Gram crops. */
export interface StepSizes {
  global: number;
  local: number;
  gram: number;
}

export interface BatchTile {
  imageId: string;
  x: number;
  y: number;
  size: number;
}

export interface TrainBatch {
  step: number;
  /** (2, B, C, G, G) and (nLocal, B, C, L, L) (C = 3 for RGB); see CropBatch. */
  crops: CropBatch;
  /** Masks (2B, N) for the global crops in the same order, and the iBOT gather buffers. */
  masks: MaskBatch;
  tiles: BatchTile[];
  /** The crop sides this batch was made with (per step in high-resolution adaptation). */
  sizes?: StepSizes;
}

/** The config with one step's sizes applied (crop sides and Gram side). */
export function withSizes(cfg: BatchConfig, sizes: StepSizes | undefined): BatchConfig {
  if (!sizes) return cfg;
  return {
    ...cfg,
    crops: { ...cfg.crops, globalSize: sizes.global, localSize: sizes.local },
    ...(sizes.gram > 0 ? { gramSize: sizes.gram } : { gramSize: undefined }),
  };
}

/** The sampler tile side for a crop recipe: 1.5 × the global crop, so RandomResizedCrop has room. */
export function tileSizeFor(crops: MultiCropConfig, factor = 1.5): number {
  return Math.round(factor * crops.globalSize);
}

/** The patch grid of a global crop, on which the block masks are drawn. */
export function maskGrid(cfg: BatchConfig): { gridH: number; gridW: number } {
  const n = Math.floor(cfg.crops.globalSize / cfg.patchSize);
  return { gridH: n, gridW: n };
}

/** Batch `step`; `sizes` (when given) override the config's crop sides for this step. */
export async function produceBatch(sampler: TileSampler, base: BatchConfig, step: number, sizes?: StepSizes): Promise<TrainBatch> {
  const cfg = withSizes(base, sizes);
  const rng = Rng.seeded(cfg.seed, step);
  const channels = cfg.channels ?? null;
  const crops = allocCropBatch(cfg.batchSize, cfg.crops, cfg.gramSize, channels);
  const tiles: BatchTile[] = [];
  for (let b = 0; b < cfg.batchSize; b++) {
    const t = await sampler.sample(rng);
    tiles.push({ imageId: t.imageId, x: t.x, y: t.y, size: t.size });
    if (channels !== null && !t.channels)
      throw new Error(`produceBatch: ${channels}-channel crops need a sampling plan built with channels ${channels}`);
    multiCropInto(channels !== null ? t.channels! : fromRgb(t.tile), rng, crops, b);
  }
  const masks = maskBatch(rng, 2 * cfg.batchSize, { ...cfg.masking, ...maskGrid(cfg) });
  return { step, crops, masks, tiles, sizes: { global: cfg.crops.globalSize, local: cfg.crops.localSize, gram: cfg.gramSize ?? 0 } };
}

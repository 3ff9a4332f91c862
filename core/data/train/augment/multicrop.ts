// DINOv2's multi-crop augmentation (dinov2/data/augmentations.py DataAugmentationDINO) on one tile, with the
// reference's EFFECTIVE probabilities (its GaussianBlur wrapper applies blur with 1 − p):
//   global 1: RRC(G, scale 0.32–1) → h-flip .5 → ColorJitter(.4,.4,.2,.1) p .8 → grayscale p .2 → blur p 0.0
//   global 2: same                                                                      → blur p 0.9 → solarize p .2
//   local ×N: RRC(L, scale 0.05–0.32) → h-flip .5 → jitter p .8 → grayscale p .2 → blur p 0.5
// then normalise with the ImageNet mean/std. Microscopy options (off by default) come right after the h-flip:
// v-flip p .5, a uniform 0–3 quarter turn, and HED stain jitter before the colour jitter.
// Multi-channel crops (a fluorescence panel of C channels, CropBatch.channels): the same geometry and blur; the
// colour jitter becomes per-channel intensity jitter and grayscale becomes channel dropout (same
// probabilities), HED and solarize are left out (channel-intensity.ts says why); normalised with the grey
// statistics on every channel.
// Gram crops (DINOv3 Gram anchoring, recipe §3), when the batch has a gram size: for each global crop the
// same box, flips and quarter turns resampled (bicubic) at the Gram teacher's side, with no photometric
// op, normalised like the rest. They take no random draws, so the other crops are the same with or without.
import type { Rng } from '../random.js';
import { gaussianBlur } from './blur.js';
import { channelIntensity, dropChannel, sampleIntensity } from './channel-intensity.js';
import { colorJitter, DINO_JITTER, sampleJitter, type JitterStrength } from './color-jitter.js';
import { hflip, rot90, vflip } from './flip.js';
import { grayscale } from './grayscale.js';
import { hedJitter, sampleHed } from './hed.js';
import { type ChwImage, channelsOf } from './image.js';
import { cropStats, normalizeInto } from './normalize.js';
import { type CropBox, resizedCrop, sampleCropBox } from './resized-crop.js';
import { solarize } from './solarize.js';

export interface MicroscopyOptions {
  /** Vertical flip with p 0.5. */
  vflip: boolean;
  /** A uniformly random multiple of 90°. */
  rot90: boolean;
  /** HED jitter strength σ (α ~ U(1 ± σ), β ~ U(±σ)); 0 turns it off. Tellez et al. use 0.05. */
  hedSigma: number;
}

export interface MultiCropConfig {
  globalSize: number;
  localSize: number;
  localCrops: number;
  globalScale: readonly [number, number];
  localScale: readonly [number, number];
  flipP: number;
  jitter: JitterStrength;
  jitterP: number;
  grayscaleP: number;
  /** Effective blur probability of global crop 1, global crop 2 and every local crop. */
  blurP: { global1: number; global2: number; local: number };
  blurSigma: readonly [number, number];
  blurKernel: number;
  /** Solarize probability of global crop 2 (the only crop that solarizes). */
  solarizeP: number;
  microscopy: MicroscopyOptions;
}

const reference: Omit<MultiCropConfig, 'globalSize' | 'localSize' | 'localCrops'> = {
  globalScale: [0.32, 1.0],
  localScale: [0.05, 0.32],
  flipP: 0.5,
  jitter: DINO_JITTER,
  jitterP: 0.8,
  grayscaleP: 0.2,
  blurP: { global1: 0.0, global2: 0.9, local: 0.5 }, // effective values: the reference's wrapper inverts them
  blurSigma: [0.1, 2.0],
  blurKernel: 9,
  solarizeP: 0.2,
  microscopy: { vflip: false, rot90: false, hedSigma: 0 },
};

/** Quick CPU preset: 2 × 112 px global + 6 × 48 px local. */
export const QUICK_CROPS: MultiCropConfig = { ...reference, globalSize: 112, localSize: 48, localCrops: 6 };
/** Standard preset: 2 × 224 px global + 8 × 96 px local (the reference). */
export const STANDARD_CROPS: MultiCropConfig = { ...reference, globalSize: 224, localSize: 96, localCrops: 8 };

/** What was applied to one crop (for tests and previews). */
export interface CropRecord {
  kind: 'global1' | 'global2' | 'local';
  box: CropBox;
  hflip: boolean;
  vflip: boolean;
  quarterTurns: number;
  hed: boolean;
  /** Colour jitter (RGB) or per-channel intensity jitter (multi-channel) applied. */
  jitter: boolean;
  grayscale: boolean;
  /** Multi-channel crops: the channel zeroed by channel dropout. */
  droppedChannel?: number;
  /** σ of the blur, or null when not blurred. */
  blur: number | null;
  solarize: boolean;
}

/** Crops of one batch: each group is a contiguous (B, C, S, S) block (C = 3 for RGB, else `channels`). */
export interface CropBatch {
  batch: number;
  /** null or absent: RGB crops (C = 3); C: crops of a C-channel panel (per-channel intensity augmentations). */
  channels?: number | null;
  /** (2, B, 3, G, G) = (2B, 3, G, G): global crop 1 of every sample, then global crop 2 (the reference's collate order). */
  global: Float32Array;
  /** (nLocal, B, 3, L, L) = (nLocal·B, 3, L, L), crop index outer. */
  local: Float32Array;
  /** (2, B, 3, S, S) with S = gramSize: the global crops' geometry without photometric ops; absent when off. */
  gram?: Float32Array;
  /** S: the Gram teacher's crop side (when `gram` is present). */
  gramSize?: number;
  config: MultiCropConfig;
}

/** Crop buffers of one batch; `gramSize` adds the (2, B, C, S, S) Gram crops; `channels` C for a multi-channel panel. */
export function allocCropBatch(batch: number, config: MultiCropConfig, gramSize?: number, channels: number | null = null): CropBatch {
  const g = config.globalSize;
  const l = config.localSize;
  const C = channels ?? 3;
  return {
    batch,
    channels,
    global: new Float32Array(2 * batch * C * g * g), // (2, B, C, G, G)
    local: new Float32Array(config.localCrops * batch * C * l * l), // (nLocal, B, C, L, L)
    ...(gramSize ? { gram: new Float32Array(2 * batch * C * gramSize * gramSize), gramSize } : {}), // (2, B, C, S, S)
    config,
  };
}

/** The geometry of `rec` (box, flips, quarter turns) at side `size`, without photometric ops: a Gram crop. */
export function geometricCrop(tile: ChwImage, rec: CropRecord, size: number): ChwImage {
  let img = resizedCrop(tile, rec.box, size, size);
  if (rec.hflip) img = hflip(img);
  if (rec.vflip) img = vflip(img);
  if (rec.quarterTurns) img = rot90(img, rec.quarterTurns);
  return img;
}

/** One crop of `tile` (C, H, W) in [0, 1], augmented; returns the (C, S, S) image before normalisation. */
function augmentCrop(
  tile: ChwImage,
  rng: Rng,
  cfg: MultiCropConfig,
  kind: CropRecord['kind'],
  multiChannel: boolean,
): { img: ChwImage; rec: CropRecord } {
  const isGlobal = kind !== 'local';
  const size = isGlobal ? cfg.globalSize : cfg.localSize;
  const box = sampleCropBox(rng, tile.height, tile.width, isGlobal ? cfg.globalScale : cfg.localScale);
  let img = resizedCrop(tile, box, size, size);
  const rec: CropRecord = {
    kind,
    box,
    hflip: false,
    vflip: false,
    quarterTurns: 0,
    hed: false,
    jitter: false,
    grayscale: false,
    blur: null,
    solarize: false,
  };
  if (rng.random() < cfg.flipP) {
    img = hflip(img);
    rec.hflip = true;
  }
  const m = cfg.microscopy;
  if (m.vflip && rng.random() < 0.5) {
    img = vflip(img);
    rec.vflip = true;
  }
  if (m.rot90) {
    rec.quarterTurns = rng.int(0, 4);
    if (rec.quarterTurns) img = rot90(img, rec.quarterTurns);
  }
  if (multiChannel) {
    photometricChannels(img, rng, cfg, rec);
  } else {
    photometricRgb(img, rng, cfg, rec);
  }
  const blurP = kind === 'global1' ? cfg.blurP.global1 : kind === 'global2' ? cfg.blurP.global2 : cfg.blurP.local;
  if (rng.random() < blurP) {
    rec.blur = rng.uniform(cfg.blurSigma[0], cfg.blurSigma[1]);
    img = gaussianBlur(img, rec.blur, cfg.blurKernel);
  }
  if (!multiChannel && kind === 'global2' && rng.random() < cfg.solarizeP) {
    solarize(img);
    rec.solarize = true;
  }
  return { img, rec };
}

/** HED, colour jitter and grayscale of an RGB crop, in place. */
function photometricRgb(img: ChwImage, rng: Rng, cfg: MultiCropConfig, rec: CropRecord): void {
  const m = cfg.microscopy;
  if (m.hedSigma > 0) {
    hedJitter(img, sampleHed(rng, m.hedSigma));
    rec.hed = true;
  }
  if (rng.random() < cfg.jitterP) {
    colorJitter(img, sampleJitter(rng, cfg.jitter));
    rec.jitter = true;
  }
  if (rng.random() < cfg.grayscaleP) {
    grayscale(img);
    rec.grayscale = true;
  }
}

/** Per-channel intensity jitter and channel dropout of a multi-channel crop, in place (same probabilities). */
function photometricChannels(img: ChwImage, rng: Rng, cfg: MultiCropConfig, rec: CropRecord): void {
  const C = channelsOf(img);
  if (rng.random() < cfg.jitterP) {
    channelIntensity(img, sampleIntensity(rng, C));
    rec.jitter = true;
  }
  if (C > 1 && rng.random() < cfg.grayscaleP) {
    rec.droppedChannel = rng.int(0, C);
    dropChannel(img, rec.droppedChannel);
  }
}

/**
 * All crops of one sample `b` of the batch, normalised, written into `out`'s slots; returns what was
 * applied (2 + nLocal records: global 1, global 2, then the locals).
 */
export function multiCropInto(tile: ChwImage, rng: Rng, out: CropBatch, b: number): CropRecord[] {
  const cfg = out.config;
  const B = out.batch;
  const C = out.channels ?? 3;
  if (channelsOf(tile) !== C) throw new RangeError(`multiCropInto: a ${channelsOf(tile)}-channel tile for ${C}-channel crops`);
  const multi = out.channels != null;
  const { mean, std } = cropStats(out.channels ?? null);
  const gElems = C * cfg.globalSize * cfg.globalSize;
  const lElems = C * cfg.localSize * cfg.localSize;
  const records: CropRecord[] = [];
  for (let g = 0; g < 2; g++) {
    const { img, rec } = augmentCrop(tile, rng, cfg, g === 0 ? 'global1' : 'global2', multi);
    normalizeInto(img, out.global, (g * B + b) * gElems, mean, std); // slot (g, b) of (2, B, C, G, G)
    if (out.gram && out.gramSize)
      normalizeInto(geometricCrop(tile, rec, out.gramSize), out.gram, (g * B + b) * C * out.gramSize * out.gramSize, mean, std); // slot (g, b) of (2, B, C, S, S)
    records.push(rec);
  }
  for (let l = 0; l < cfg.localCrops; l++) {
    const { img, rec } = augmentCrop(tile, rng, cfg, 'local', multi);
    normalizeInto(img, out.local, (l * B + b) * lElems, mean, std); // slot (l, b) of (nLocal, B, C, L, L)
    records.push(rec);
  }
  return records;
}

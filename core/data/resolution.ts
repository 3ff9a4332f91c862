// Pyramid levels and resolution: the one place that says which stored level to read for a wanted scale,
// what a level's downsample and µm per pixel are, and how an image that states no µm per pixel is
// treated. The viewer (tiles/render.ts), the training sampler (data/train/sampler.ts) and extraction
// (features/extract/resolution.ts) all ask here, so they read the same level for the same scale.
//
// Scales are downsamples: level-0 pixels per output pixel (1 = full resolution, 4 = a quarter).
//
// One tolerance (DOWNSAMPLE_TOLERANCE): stored levels are whole pixels, so a "4×" level of a 10001-pixel
// wide image has downsample 10001 / 2500 = 4.0004. A level within 0.1% above the wanted downsample counts
// as reaching it: it is read (and resampled by at most 0.1%) instead of a four times larger finer level.
//
// One rule for images without µm per pixel (meta.mpp null), used when a scale is asked in µm per pixel:
// such an image is read at the fallback level the caller names (default 0, i.e. its own full-resolution
// pixels), as if that level had the wanted µm per pixel; the Scale says so (mppFallback) so that the
// caller can tell the user how the image was treated.
//
// A µm per pixel the user stated for an image whose file states none (`dinoscope images set-mpp`, the
// image's properties in the app, `dinoscope import --mpp`) counts as the image's own: withStatedMpp()
// puts it into the metadata every caller above reads, so such an image is no longer a fallback. A file's
// own statement is never overridden (the project refuses a stated value there).
import type { ImageLevel, ImageMetadata } from '../common/api.js';

/** Relative slack when comparing downsamples: a level ≤ 0.1% coarser than wanted counts as exact. */
export const DOWNSAMPLE_TOLERANCE = 1e-3;

/** Downsample of a stored level from its width: level-0 width / level width (≥ 1 for a reduced level). */
export function downsampleOf(width0: number, levelWidth: number): number {
  return width0 / levelWidth;
}

/** Whether two downsamples are the same scale within the tolerance (a level read needs no resampling). */
export function sameDownsample(a: number, b: number): boolean {
  return Math.abs(a / b - 1) < DOWNSAMPLE_TOLERANCE;
}

/** The stored level to read for `downsample`: the coarsest one that needs no upsampling (largest
 * downsample ≤ the wanted one, within the tolerance); level 0 when the wanted one is finer than all. */
export function levelForDownsample(levels: readonly Pick<ImageLevel, 'downsample'>[], downsample: number): number {
  let best = 0;
  levels.forEach((l, i) => {
    if (l.downsample <= downsample * (1 + DOWNSAMPLE_TOLERANCE) && l.downsample > levels[best].downsample) best = i;
  });
  return best;
}

/** µm per pixel of a stored level, or null when the image states no µm per pixel. */
export function levelMpp(meta: Pick<ImageMetadata, 'mpp' | 'levels'>, level: number): number | null {
  const l = meta.levels[level];
  return meta.mpp && l ? meta.mpp * l.downsample : null;
}

/** Where an image's µm per pixel comes from: its file, the user's statement, or nowhere. */
export type MppSource = 'file' | 'stated' | null;

/** The metadata with the user's stated µm per pixel filled in where the file states none (the file's own
 * value wins); the same object when nothing changes. */
export function withStatedMpp<M extends Pick<ImageMetadata, 'mpp'>>(meta: M, statedMpp: number | null | undefined): M {
  if (meta.mpp || !statedMpp || !(statedMpp > 0)) return meta;
  return { ...meta, mpp: statedMpp };
}

/** Where the µm per pixel of an image with this file metadata and stated value comes from. */
export function mppSource(meta: Pick<ImageMetadata, 'mpp'>, statedMpp: number | null | undefined): MppSource {
  if (meta.mpp) return 'file';
  return statedMpp && statedMpp > 0 ? 'stated' : null;
}

/** A wanted scale: µm per pixel, or a stored level (the fallback level for images without µm per pixel
 * when both are given; default 0). A level past the coarsest means the coarsest. */
export interface ScaleRequest {
  mpp?: number;
  level?: number;
}

export interface Scale {
  /** Level-0 pixels per output pixel. */
  downsample: number;
  /** The stored level read, and its downsample; resample = downsample / levelDownsample (≥ 1 − tolerance,
   * below 1 only when the wanted scale is finer than level 0). */
  level: number;
  levelDownsample: number;
  /** µm per output pixel, or null when the image states none. */
  mpp: number | null;
  /** True when µm per pixel was asked and the image states none: it is read at the fallback level. */
  mppFallback: boolean;
}

/** The scale and stored level for `req` on an image. mpp must be > 0 (callers check their input). */
export function scaleFor(meta: Pick<ImageMetadata, 'mpp' | 'levels'>, req: ScaleRequest): Scale {
  let downsample: number;
  const mppFallback = req.mpp !== undefined && !meta.mpp;
  if (req.mpp !== undefined && meta.mpp) downsample = req.mpp / meta.mpp;
  else downsample = meta.levels[Math.min(Math.max(0, req.level ?? 0), meta.levels.length - 1)].downsample;
  const level = levelForDownsample(meta.levels, downsample);
  return { downsample, level, levelDownsample: meta.levels[level].downsample, mpp: meta.mpp ? meta.mpp * downsample : null, mppFallback };
}

// The working resolution of an extraction: the caller asks for microns per pixel (or a pyramid level); we
// read the native level nearest the target that needs no upsampling and resample it down to the target.
// Everything downstream (tiles, the patch grid, the store's stride) is in "working pixels".
import type { ImageMetadata } from '../../common/api.js';
import { DinoscopeError, FieldError } from '../../common/errors.js';
import { DOWNSAMPLE_TOLERANCE, scaleFor } from '../../data/resolution.js';

export interface ResolutionRequest {
  /** Target µm per working pixel; needs the image to state its mpp unless `mppFallback`. */
  mpp?: number;
  /** Pyramid level to work at (used when `mpp` is absent, and as the fallback level). Default 0. */
  level?: number;
  /** With `mpp`: an image that states no mpp is read at `level` instead of being refused (the rule of
   * core/data/resolution.ts; the result says so in `mppFallback`). */
  mppFallback?: boolean;
}

export interface WorkingResolution {
  /** Native level read, its downsample, and the resample factor level pixels → working pixels (≥ 1 within
   * the level tolerance of core/data/resolution.ts). */
  level: number;
  levelDownsample: number;
  resample: number;
  /** Level-0 pixels per working pixel. */
  downsample: number;
  /** µm per working pixel, or null when the image has no mpp. */
  mpp: number | null;
  /** True when mpp was asked and the image states none, so it is read at the fallback level. */
  mppFallback: boolean;
  /** Level-0 pixels between patches (patch size · downsample). */
  stride: number;
  gridWidth: number;
  gridHeight: number;
}

/**
 * The request of an extraction over a collection. Asked by µm per pixel, an image that states no mpp is
 * extracted at level 0 (its own pixels; core/data/resolution.ts's rule) when at least one image of the
 * collection states its mpp, so the set's µm per pixel means something; when none does, such images are
 * refused (the µm per pixel cannot mean anything there: use a level). `mpps`: each image's stated mpp.
 */
export function collectionRequest(o: { mpp?: number; level?: number }, mpps: readonly (number | null | undefined)[]): ResolutionRequest {
  if (o.mpp === undefined) return { level: o.level ?? 0 };
  return { mpp: o.mpp, mppFallback: mpps.some((m) => !!m) };
}

/** Chooses the level and resampling for `req`; `file` names the image in errors. */
export function workingResolution(meta: ImageMetadata, req: ResolutionRequest, patchSize: number, file: string): WorkingResolution {
  if (req.mpp !== undefined) {
    if (!(req.mpp > 0) || !Number.isFinite(req.mpp))
      throw new FieldError('mpp', `must be a positive number of µm per pixel, got ${req.mpp}.`, file);
    if (!meta.mpp && !req.mppFallback)
      throw new FieldError(
        'mpp',
        `the file states no resolution, so ${req.mpp} µm per pixel cannot be honoured; use {level} instead.`,
        file,
      );
    if (meta.mpp && req.mpp / meta.mpp < 1 - DOWNSAMPLE_TOLERANCE)
      throw new FieldError('mpp', `${req.mpp} is finer than the scan (${meta.mpp} µm/px at level 0).`, file);
  }
  if (req.mpp === undefined || !meta.mpp) {
    const lv = req.level ?? 0;
    if (!Number.isInteger(lv) || lv < 0 || lv >= meta.levels.length)
      throw new FieldError('level', `${lv} does not exist (the image has levels 0–${meta.levels.length - 1}).`, file);
  }
  const scale = scaleFor(meta, req);
  const downsample = Math.max(1, scale.downsample);
  const { level, levelDownsample, mppFallback } = scale;
  const stride = patchSize * downsample;
  const gridWidth = Math.floor(meta.width / stride);
  const gridHeight = Math.floor(meta.height / stride);
  if (gridWidth < 1 || gridHeight < 1)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${file}: ${meta.width} × ${meta.height} px is smaller than one ${patchSize}-pixel patch at this resolution.`,
    );
  return {
    level,
    levelDownsample,
    resample: downsample / levelDownsample,
    downsample,
    mpp: meta.mpp ? meta.mpp * downsample : null,
    mppFallback,
    stride,
    gridWidth,
    gridHeight,
  };
}

// The working resolution of an extraction: the caller asks for microns per pixel (or a pyramid level); we
// read the native level nearest the target that needs no upsampling and resample it down to the target.
// Everything downstream (tiles, the patch grid, the store's stride) is in "working pixels".
import type { ImageMetadata } from '../../common/api.js';
import { DinoscopeError, FieldError } from '../../common/errors.js';

export interface ResolutionRequest {
  /** Target µm per working pixel; needs the image to state its mpp. */
  mpp?: number;
  /** Pyramid level to work at (used when `mpp` is absent). Default 0. */
  level?: number;
}

export interface WorkingResolution {
  /** Native level read, its downsample, and the resample factor level pixels → working pixels (≥ 1). */
  level: number;
  levelDownsample: number;
  resample: number;
  /** Level-0 pixels per working pixel. */
  downsample: number;
  /** µm per working pixel, or null when the image has no mpp. */
  mpp: number | null;
  /** Level-0 pixels between patches (patch size · downsample). */
  stride: number;
  gridWidth: number;
  gridHeight: number;
}

/** Index of the level with the largest downsample ≤ target (the nearest native level that needs no upsampling). */
export function nativeLevelFor(levels: readonly { downsample: number }[], target: number): number {
  let best = 0;
  levels.forEach((l, i) => {
    if (l.downsample <= target * (1 + 1e-6) && l.downsample > levels[best].downsample) best = i;
  });
  return best;
}

/** Chooses the level and resampling for `req`; `file` names the image in errors. */
export function workingResolution(meta: ImageMetadata, req: ResolutionRequest, patchSize: number, file: string): WorkingResolution {
  let downsample: number;
  if (req.mpp !== undefined) {
    if (!(req.mpp > 0) || !Number.isFinite(req.mpp)) throw new FieldError('mpp', `must be a positive number of µm per pixel, got ${req.mpp}.`, file);
    if (!meta.mpp) throw new FieldError('mpp', `the file states no resolution, so ${req.mpp} µm per pixel cannot be honoured; use {level} instead.`, file);
    downsample = req.mpp / meta.mpp;
    if (downsample < 1 - 1e-6) throw new FieldError('mpp', `${req.mpp} is finer than the scan (${meta.mpp} µm/px at level 0).`, file);
    downsample = Math.max(1, downsample);
  } else {
    const lv = req.level ?? 0;
    if (!Number.isInteger(lv) || lv < 0 || lv >= meta.levels.length) throw new FieldError('level', `${lv} does not exist (the image has levels 0–${meta.levels.length - 1}).`, file);
    downsample = meta.levels[lv].downsample;
  }
  const level = nativeLevelFor(meta.levels, downsample);
  const levelDownsample = meta.levels[level].downsample;
  const stride = patchSize * downsample;
  const gridWidth = Math.floor(meta.width / stride);
  const gridHeight = Math.floor(meta.height / stride);
  if (gridWidth < 1 || gridHeight < 1) throw new DinoscopeError('BAD_INPUT', `${file}: ${meta.width} × ${meta.height} px is smaller than one ${patchSize}-pixel patch at this resolution.`);
  return { level, levelDownsample, resample: downsample / levelDownsample, downsample, mpp: meta.mpp ? meta.mpp * downsample : null, stride, gridWidth, gridHeight };
}

// What a run asked by µm per pixel says about each image's pixel size, so that a collection mixing files
// that state it, images whose size the user stated, and images with neither is never treated silently:
// extraction (core/features/extract/project.ts) and training (data/train/sampler.ts) log these lines.
// An image with neither falls back to a level (resolution.ts's one rule): that line is a warning.
import type { MppSource } from './resolution.js';

export interface ResolutionUse {
  path: string;
  /** Where its µm per pixel comes from (resolution.ts mppSource). */
  source: MppSource;
  /** Its level-0 µm per pixel as used (the file's or the stated one), null when neither. */
  mpp: number | null;
  /** The stored level read. */
  level: number;
}

export interface ResolutionLine {
  text: string;
  /** True for an image that falls back to a level instead of the wanted µm per pixel. */
  warning: boolean;
}

/** The words for how a run of `verb` (extracted, sampled) at `wanted` µm/px treats each image. An image
 * whose file states its size gets a line only in a mixed collection; the fallback line keeps the wording
 * the extraction summary has always had, and one more line says how to state the missing sizes. */
export function resolutionLines(uses: readonly ResolutionUse[], wanted: number | undefined, verb: string): ResolutionLine[] {
  if (wanted === undefined) return [];
  const mixed = new Set(uses.map((u) => u.source)).size > 1;
  const lines: ResolutionLine[] = [];
  for (const u of uses) {
    if (u.source === 'stated')
      lines.push({
        text: `${u.path}: uses the pixel size stated for it, ${u.mpp} µm/px (the file states none); ${verb} at ${wanted} µm/px from level ${u.level}.`,
        warning: false,
      });
    else if (u.source === 'file' && mixed)
      lines.push({
        text: `${u.path}: ${u.mpp} µm/px stated in the file; ${verb} at ${wanted} µm/px from level ${u.level}.`,
        warning: false,
      });
    else if (u.source === null)
      lines.push({
        text: `${u.path}: the file states no resolution (mpp); ${verb} at level ${u.level} (its own pixels) instead of ${wanted} µm/px.`,
        warning: true,
      });
  }
  const unknown = uses.filter((u) => u.source === null).length;
  if (unknown > 0)
    lines.push({
      text: `${unknown} image${unknown === 1 ? '' : 's'} without a pixel size ${unknown === 1 ? 'was' : 'were'} ${verb} at a pyramid level, not at ${wanted} µm/px: state the size (dinoscope images set-mpp, or the image's properties in the app) to use ${wanted} µm/px for ${unknown === 1 ? 'it' : 'them'}.`,
      warning: false,
    });
  return lines;
}

// The overlay-layer API: a tiled overlay drawn over an image in the image's own deep-zoom grid, as PNG
// tiles with alpha. The tissue mask is the first provider; similarity heatmaps, PCA and cluster maps
// register theirs the same way.
import type { Mask } from '../../data/tissue-mask.js';
import type { DziGeometry } from '../dzi.js';

export interface OverlayLegendItem {
  label: string;
  color: string;
}

/** What a provider may ask of the app about an image. */
export interface OverlayContext {
  geometry(imageId: string): Promise<DziGeometry>;
  /** The image's JPEG thumbnail (longest side ≤ 256). */
  thumbnail(imageId: string): Promise<Uint8Array>;
  /** The tissue mask of that thumbnail (computed once per image: core/data/tissue-mask-cache.ts). */
  tissueMask(imageId: string): Promise<Mask>;
}

export interface OverlayProvider {
  readonly id: string;
  readonly name: string;
  readonly legend: readonly OverlayLegendItem[];
  readonly defaultOpacity: number;
  /** Whether this overlay exists for the image (e.g. a heatmap only after a run). */
  appliesTo(imageId: string): Promise<boolean>;
  /** A PNG tile (RGBA) of the image's DZI grid at (level, x, y). */
  tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array>;
  /** Forget anything cached for the image. */
  invalidate?(imageId: string): void;
}

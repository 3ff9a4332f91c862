// The levels a tiled reader offers: the file's own levels, plus halvings of a finer level wherever two
// consecutive stored levels are more than MAX_LEVEL_GAP apart. Without them, a deep-zoom tile between
// such levels would have to read a huge footprint of the finer level at once (a file with levels 256×
// apart needs 65,536 fine pixels per output pixel); with them each synthesized tile is made from 2 × 2
// tiles of the level just above it, which are cached in turn.
import type { TileLayout } from './level.js';

/** The largest ratio between consecutive level widths served without synthesized levels in between. */
export const MAX_LEVEL_GAP = 4;
/** Tile side of synthesized levels. */
export const VIRTUAL_TILE = 256;

export interface PlannedLevel {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  /** Index of the stored level (in `layouts`), or null for a level synthesized from the one before it. */
  native: number | null;
}

/** Only the geometry of each stored level is used (the DICOM reader plans its instances the same way). */
export function levelPlan(layouts: readonly Pick<TileLayout, 'width' | 'height' | 'tileWidth' | 'tileHeight'>[]): PlannedLevel[] {
  const plan: PlannedLevel[] = [];
  layouts.forEach((l, i) => {
    const prev = plan[plan.length - 1];
    if (prev) {
      let { width, height } = prev;
      while (width / l.width > MAX_LEVEL_GAP) {
        width = Math.max(1, Math.ceil(width / 2));
        height = Math.max(1, Math.ceil(height / 2));
        plan.push({ width, height, tileWidth: VIRTUAL_TILE, tileHeight: VIRTUAL_TILE, native: null });
      }
    }
    plan.push({ width: l.width, height: l.height, tileWidth: l.tileWidth, tileHeight: l.tileHeight, native: i });
  });
  return plan;
}

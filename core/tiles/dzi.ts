// Deep Zoom (DZI) level math, as OpenSeadragon numbers levels: maxLevel = ceil(log2(max(w, h))) is full
// resolution, each lower level halves (rounding up), level 0 is 1 × 1. Tiles are tileSize square with no
// overlap; edge tiles are cropped to the level's bounds.

export const TILE_SIZE = 256;

export interface DziGeometry {
  width: number;
  height: number;
  tileSize: number;
  maxLevel: number;
}

export function dziGeometry(width: number, height: number, tileSize = TILE_SIZE): DziGeometry {
  return { width, height, tileSize, maxLevel: Math.ceil(Math.log2(Math.max(width, height, 1))) };
}

/** Downsample of a DZI level relative to full resolution (a power of two ≥ 1). */
export function levelDownsample(g: DziGeometry, level: number): number {
  return 2 ** (g.maxLevel - level);
}

export function levelSize(g: DziGeometry, level: number): { width: number; height: number } {
  const d = levelDownsample(g, level);
  return { width: Math.max(1, Math.ceil(g.width / d)), height: Math.max(1, Math.ceil(g.height / d)) };
}

export function tileCount(g: DziGeometry, level: number): { cols: number; rows: number } {
  const s = levelSize(g, level);
  return { cols: Math.ceil(s.width / g.tileSize), rows: Math.ceil(s.height / g.tileSize) };
}

/** The tile's rectangle in the level's pixel coordinates, or null when (level, x, y) is outside the grid. */
export function tileRect(
  g: DziGeometry,
  level: number,
  x: number,
  y: number,
): { x: number; y: number; width: number; height: number } | null {
  if (!Number.isInteger(level) || level < 0 || level > g.maxLevel || !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0)
    return null;
  const s = levelSize(g, level);
  const left = x * g.tileSize;
  const top = y * g.tileSize;
  if (left >= s.width || top >= s.height) return null;
  return { x: left, y: top, width: Math.min(g.tileSize, s.width - left), height: Math.min(g.tileSize, s.height - top) };
}

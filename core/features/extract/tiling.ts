// Tiles with context margins. The patch grid is cut into cores of T × T patches (one store chunk each);
// the model sees each core with m extra patches on every side, (T + 2m) × (T + 2m) patches, and only the
// core's features are kept. With global attention and a learned (interpolated) position embedding no tile
// equals the whole image exactly; the margins give every kept patch context on all sides so that the
// stitched grid has no seams at core borders (extract.test.ts measures how close it comes).

export interface TileLayout {
  /** Patch side in working pixels. */
  patch: number;
  /** Core side in patches (= the store's chunk side). */
  core: number;
  /** Context patches on each side. */
  margin: number;
}

/** Input side of a tile in working pixels: (T + 2m) · p. */
export const tileSide = (l: TileLayout): number => (l.core + 2 * l.margin) * l.patch;

/** Patches per side of a tile's model input. */
export const tilePatches = (l: TileLayout): number => l.core + 2 * l.margin;

/** The working-pixel square a tile reads for chunk (cy, cx); may extend past the image (white there). */
export function tileInputRect(l: TileLayout, cy: number, cx: number): { x: number; y: number; side: number } {
  return { x: (cx * l.core - l.margin) * l.patch, y: (cy * l.core - l.margin) * l.patch, side: tileSide(l) };
}

/**
 * The core of one tile's patch tokens. `patches` is the model output (B, N, D) with N = P² row-major over
 * the tile's P × P patches (P = T + 2m); returns (h, w, D) for the kept w × h corner of the core (edge
 * chunks are clipped by the grid).
 */
export function coreFeatures(l: TileLayout, patches: Float32Array, b: number, dim: number, w: number, h: number): Float32Array {
  const P = tilePatches(l);
  const out = new Float32Array(h * w * dim); // (h, w, D)
  const base = b * P * P * dim; // tile b of (B, N, D)
  for (let y = 0; y < h; y++) {
    const src = base + ((y + l.margin) * P + l.margin) * dim; // row (m + y), column m of the tile
    out.set(patches.subarray(src, src + w * dim), y * w * dim);
  }
  return out;
}

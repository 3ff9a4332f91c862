// Tiles with context margins (the 'tiled' context; see context.ts for the one-pass 'whole' context). The
// patch grid is cut into cores of T × T patches (one store chunk each); the model sees each core inside a
// window of (T + 2m) × (T + 2m) patches and only the core's features are kept. Windows never reach past the
// image when it is at least one window wide/high: an edge window is shifted inward so it lies inside the
// image, and the core is taken at its offset within the window (no invented white or black context). Only
// a grid smaller than a window along an axis is padded there (the reader's white); such images take the
// one-pass path under 'auto'.
//
// What is exact: for a model whose patch features depend only on their own pixels the stitched grid equals
// one whole-image pass (extract.test.ts, to float16 precision). What is bounded: with global attention and
// an interpolated position embedding no tiling equals the whole pass; a random tiny ViT measures ≈4e-2
// relative RMS with no excess at core borders (extract.test.ts), so the gap is global, not a seam.

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

/** A chunk's model window: its top-left patch on the grid and where the chunk's core starts inside it. */
export interface TileWindow {
  /** Window origin, in patches of the grid (≥ 0; the window is tilePatches(l) square). */
  x: number;
  y: number;
  /** The core's offset inside the window, in patches. */
  coreX: number;
  coreY: number;
}

/** One axis: the core at c·T with m of margin, shifted inward to [0, g − P] when the grid holds a window. */
function windowAxis(l: TileLayout, c: number, g: number): { start: number; core: number } {
  const P = tilePatches(l);
  const start = Math.min(Math.max(c * l.core - l.margin, 0), Math.max(0, g - P));
  return { start, core: c * l.core - start };
}

/** The window chunk (cy, cx) is computed in, on a gridWidth × gridHeight patch grid. */
export function tileWindow(l: TileLayout, cy: number, cx: number, gridWidth: number, gridHeight: number): TileWindow {
  const ax = windowAxis(l, cx, gridWidth);
  const ay = windowAxis(l, cy, gridHeight);
  return { x: ax.start, y: ay.start, coreX: ax.core, coreY: ay.core };
}

/** The working-pixel square a window reads; it lies inside the image unless the grid is smaller than a window. */
export function tileInputRect(l: TileLayout, w: TileWindow): { x: number; y: number; side: number } {
  return { x: w.x * l.patch, y: w.y * l.patch, side: tileSide(l) };
}

/**
 * The w × h patches at (x, y) of a row-major patch grid `srcWidth` patches wide starting at `base` in
 * `src` (…, N, D): returns (h, w, D).
 */
export function cropPatches(
  src: Float32Array,
  base: number,
  srcWidth: number,
  dim: number,
  x: number,
  y: number,
  w: number,
  h: number,
): Float32Array {
  const out = new Float32Array(h * w * dim); // (h, w, D)
  for (let r = 0; r < h; r++) {
    const from = base + ((y + r) * srcWidth + x) * dim; // row y + r, column x
    out.set(src.subarray(from, from + w * dim), r * w * dim);
  }
  return out;
}

/**
 * The core of one tile's patch tokens. `patches` is the model output (B, N, D) with N = P² row-major over
 * the tile's P × P patches (P = T + 2m); returns (h, w, D) for the kept w × h corner of the core (edge
 * chunks are clipped by the grid), which starts at (coreX, coreY) inside the window.
 */
export function coreFeatures(
  l: TileLayout,
  patches: Float32Array,
  b: number,
  dim: number,
  w: number,
  h: number,
  at: Pick<TileWindow, 'coreX' | 'coreY'>,
): Float32Array {
  const P = tilePatches(l);
  return cropPatches(patches, b * P * P * dim, P, dim, at.coreX, at.coreY, w, h); // tile b of (B, P², D)
}

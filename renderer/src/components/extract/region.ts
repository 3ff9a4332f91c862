// The region an attention-map request covers: what the viewer shows, clamped to the image, snapped to
// the working patch grid and cut around its centre to the host's cap (MAX_REGION_PATCHES per side).

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The host's cap on a region's side, in patches (core/features/extract/attention.ts). */
export const MAX_REGION_PATCHES = 96;

/** One axis: [lo, hi) in level-0 pixels → whole patches [g0, g1) inside [0, cells), at most `max` wide. */
function axis(lo: number, hi: number, stride: number, cells: number, max: number): [number, number] | null {
  let g0 = Math.max(0, Math.floor(lo / stride));
  let g1 = Math.min(cells, Math.ceil(hi / stride));
  if (g1 <= g0) return null;
  if (g1 - g0 > max) {
    g0 = Math.round((g0 + g1 - max) / 2);
    g1 = g0 + max;
  }
  return [g0, g1];
}

/**
 * The patch-aligned region (level-0 pixels) for a visible rectangle `view` of an image of `size`, with
 * `stride` level-0 pixels per patch at the working resolution; null when the view misses the image. The
 * edges sit a quarter patch inside the cells so the host's floor/ceil snapping gives the same cells.
 */
export function attentionRegion(
  view: Rect,
  size: { width: number; height: number },
  stride: number,
  max = MAX_REGION_PATCHES,
): Rect | null {
  const xs = axis(view.x, view.x + view.width, stride, Math.floor(size.width / stride), max);
  const ys = axis(view.y, view.y + view.height, stride, Math.floor(size.height / stride), max);
  if (!xs || !ys) return null;
  const q = stride / 4;
  return {
    x: xs[0] * stride + q,
    y: ys[0] * stride + q,
    width: (xs[1] - xs[0]) * stride - 2 * q,
    height: (ys[1] - ys[0]) * stride - 2 * q,
  };
}

// A fixed probe set for the dense-feature health metrics: the same (image, patch) positions at every
// evaluation of a run, drawn once from a seed, so the curves are comparable step to step.
import { Rng } from '../../data/train/random.js';

export interface Grid {
  h: number;
  w: number;
}

export interface Probe {
  /** Image index in the batch (0…B−1). */
  image: number;
  /** Patch index, row-major on the grid (0…h·w−1). */
  patch: number;
}

/**
 * `perImage` distinct patch positions in each of `images` images, drawn from `seed`, at least `margin`
 * patches from the border (so a locality disc is not cut by the edge). Sorted per image.
 */
export function selectProbes(images: number, grid: Grid, perImage: number, seed: number, margin = 0): Probe[] {
  const rows = grid.h - 2 * margin;
  const cols = grid.w - 2 * margin;
  if (rows < 1 || cols < 1) throw new RangeError(`selectProbes: margin ${margin} leaves no patch on a ${grid.h}×${grid.w} grid`);
  if (perImage > rows * cols) throw new RangeError(`selectProbes: ${perImage} probes do not fit ${rows * cols} eligible patches`);
  const rng = Rng.seeded(seed, 0x70726f62);
  const out: Probe[] = [];
  for (let image = 0; image < images; image++) {
    const eligible = Array.from({ length: rows * cols }, (_, k) => (margin + Math.floor(k / cols)) * grid.w + margin + (k % cols));
    const chosen = rng
      .shuffle(eligible)
      .slice(0, perImage)
      .sort((a, b) => a - b);
    for (const patch of chosen) out.push({ image, patch });
  }
  return out;
}

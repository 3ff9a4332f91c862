// CAPI's masks (capi/data.py InverseBlockMasking with roll, collate_data_and_cast): of the N patches of an
// image, ⌊N·ratio⌋ (0.65) are masked so that the VISIBLE ones form one rectangle-like block (aspect 0.5–2,
// truncated to the exact count in row-major order) rolled by a random shift with wrap-around; of the masked
// patches a random ⌊n_masked · 0.05⌋ (at least 1 here, where grids are small) are the prediction targets.
// Counts are the same for every image, so the graphs' shapes are static. The draws come from `rng` (the
// trainer seeds it with (seed, step), so a resumed run masks as the uninterrupted one).
import { type Rng } from '../../model/params.js';

export interface CapiMasks {
  /** V visible patches per image (ascending) and P predicted ones, per image. */
  visible: number[][];
  predict: number[][];
}

export interface CapiMaskCounts {
  masked: number;
  visible: number;
  predict: number;
}

/** How many patches of an N-patch image are masked, visible and predicted. */
export function capiMaskCounts(patches: number, ratio: number, predictFraction: number): CapiMaskCounts {
  const masked = Math.floor(patches * ratio);
  if (masked < 1 || masked >= patches)
    throw new Error(`CAPI masking: ratio ${ratio} of ${patches} patches leaves no masked or no visible patch`);
  return { masked, visible: patches - masked, predict: Math.max(1, Math.floor(masked * predictFraction)) };
}

const randint = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.uniform() * (hi - lo + 1)); // [lo, hi]

/** BlockMasking(count) with roll: a (h × w) bool grid, row-major, `count` cells true in one wrapped block. */
export function blockMask(h: number, w: number, count: number, rng: Rng, minAspect = 0.5): boolean[] {
  const m = new Array<boolean>(h * w).fill(false);
  if (count === 0) return m;
  const minLar = Math.max(Math.log(minAspect), Math.log(count / (w * w)));
  const maxLar = Math.min(Math.log(1 / minAspect), Math.log((h * h) / (count + 1e-5)));
  const aspect = Math.exp(minLar + (maxLar - minLar) * rng.uniform());
  const bh = Math.min(h, Math.ceil(Math.sqrt(count * aspect)));
  const bw = Math.min(w, Math.ceil(Math.sqrt(count / aspect)));
  const top = randint(rng, 0, h - bh);
  const left = randint(rng, 0, w - bw);
  const cells: number[] = [];
  for (let r = top; r < top + bh; r++) for (let c = left; c < left + bw; c++) cells.push(r * w + c);
  // Too few cells (ceil of a clamped side): fill on in row-major order, as the block's continuation.
  for (let t = 0; cells.length < count && t < h * w; t++) if (!cells.includes(t)) cells.push(t);
  cells.sort((a, b) => a - b);
  const sr = randint(rng, 0, h - 1);
  const sc = randint(rng, 0, w - 1);
  for (const t of cells.slice(0, count)) m[((Math.floor(t / w) + sr) % h) * w + (((t % w) + sc) % w)] = true;
  return m;
}

/** The masks of `images` images of an h × w grid. */
export function capiMasks(images: number, h: number, w: number, counts: CapiMaskCounts, rng: Rng): CapiMasks {
  const visible: number[][] = [];
  const predict: number[][] = [];
  for (let b = 0; b < images; b++) {
    const vis = blockMask(h, w, counts.visible, rng); // InverseBlockMasking: the block is what stays visible
    const v: number[] = [];
    const masked: number[] = [];
    vis.forEach((x, t) => (x ? v : masked).push(t));
    // A random subset of the masked patches (argsort of uniforms, as the official collate).
    const keys = masked.map(() => rng.uniform());
    const order = masked.map((_, i) => i).sort((a, c) => keys[a] - keys[c]);
    visible.push(v);
    predict.push(order.slice(0, counts.predict).map((i) => masked[i]));
  }
  return { visible, predict };
}

/** Flat indices into (images · N) of per-image patch lists, image-major. */
export function flatIndices(perImage: readonly (readonly number[])[], patches: number): BigInt64Array {
  const out = new BigInt64Array(perImage.reduce((s, l) => s + l.length, 0));
  let k = 0;
  perImage.forEach((l, b) => l.forEach((t) => (out[k++] = BigInt(b * patches + t))));
  return out;
}

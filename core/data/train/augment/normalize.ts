// transforms.Normalize: (x − mean_c) / std_c per channel, written into a batch slot.
import type { ChwImage } from './image.js';

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Writes normalise(img) (3, H, W) into `out` starting at `offset` (e.g. slot b of a (B, 3, H, W) batch). */
export function normalizeInto(img: ChwImage, out: Float32Array, offset = 0, mean = IMAGENET_MEAN, std = IMAGENET_STD): void {
  const plane = img.height * img.width;
  for (let c = 0; c < 3; c++) {
    const m = mean[c];
    const s = std[c];
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[offset + base + i] = (img.data[base + i] - m) / s;
  }
}

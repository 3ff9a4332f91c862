// transforms.Normalize: (x − mean_c) / std_c per channel, written into a batch slot. RGB crops use the
// ImageNet statistics; a C-channel crop uses the grey statistics of core/model/input-norm.ts on every channel.
import { CHANNEL_MEAN, CHANNEL_STD } from '../../../model/input-norm.js';
import type { ChwImage } from './image.js';

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Writes normalise(img) (C, H, W) into `out` starting at `offset` (e.g. slot b of a (B, C, H, W) batch); C = mean.length. */
export function normalizeInto(
  img: ChwImage,
  out: Float32Array,
  offset = 0,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): void {
  const plane = img.height * img.width;
  for (let c = 0; c < mean.length; c++) {
    const m = mean[c];
    const s = std[c];
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[offset + base + i] = (img.data[base + i] - m) / s;
  }
}

/** The (mean, std) lists of a crop: ImageNet's for RGB (channels null), the grey pair on each of C channels. */
export function cropStats(channels: number | null): { mean: readonly number[]; std: readonly number[] } {
  if (channels === null) return { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  return { mean: new Array<number>(channels).fill(CHANNEL_MEAN), std: new Array<number>(channels).fill(CHANNEL_STD) };
}

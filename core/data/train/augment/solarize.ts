// F.solarize on float images: pixels at or above the threshold are inverted (1 − x). The reference uses
// threshold 128 on uint8, i.e. 128/255 here.
import type { ChwImage } from './image.js';

export const SOLARIZE_THRESHOLD = 128 / 255;

/** In place; returns `img`. The comparison is in float32, as torch compares a float32 tensor with a scalar. */
export function solarize(img: ChwImage, threshold = SOLARIZE_THRESHOLD): ChwImage {
  const t = Math.fround(threshold);
  const d = img.data;
  for (let i = 0; i < d.length; i++) if (d[i] >= t) d[i] = 1 - d[i];
  return img;
}

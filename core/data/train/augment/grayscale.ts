// F.rgb_to_grayscale with num_output_channels=3 on float images: ITU-R 601-2 luma
// L = 0.2989 R + 0.587 G + 0.114 B, copied to all three channels.
import type { ChwImage } from './image.js';

/** The luma plane (H, W) of a (3, H, W) image. */
export function luma(img: ChwImage): Float32Array {
  const plane = img.height * img.width;
  const d = img.data;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) out[i] = 0.2989 * d[i] + 0.587 * d[plane + i] + 0.114 * d[2 * plane + i];
  return out;
}

/** Replaces every channel with the luma, in place; returns `img`. */
export function grayscale(img: ChwImage): ChwImage {
  const l = luma(img);
  for (let c = 0; c < 3; c++) img.data.set(l, c * l.length);
  return img;
}

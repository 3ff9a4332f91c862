// Geometric flips and 90° rotations of a (C, H, W) float image (torchvision F.hflip / F.vflip, torch.rot90).
import { type ChwImage, channelsOf, chwImage } from './image.js';

/** Mirror left–right (F.hflip). */
export function hflip(img: ChwImage): ChwImage {
  const { height: h, width: w } = img;
  const C = channelsOf(img);
  const out = chwImage(h, w, undefined, C);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const row = (c * h + y) * w;
      for (let x = 0; x < w; x++) out.data[row + x] = img.data[row + w - 1 - x];
    }
  }
  return out;
}

/** Mirror top–bottom (F.vflip). */
export function vflip(img: ChwImage): ChwImage {
  const { height: h, width: w } = img;
  const C = channelsOf(img);
  const out = chwImage(h, w, undefined, C);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) out.data.set(img.data.subarray((c * h + h - 1 - y) * w, (c * h + h - y) * w), (c * h + y) * w);
  }
  return out;
}

/** torch.rot90(img, k, dims=(-2, -1)): k quarter turns counter-clockwise; (C, H, W) → (C, W, H) for odd k. */
export function rot90(img: ChwImage, k: number): ChwImage {
  const turns = ((k % 4) + 4) % 4;
  const C = channelsOf(img);
  if (turns === 0) return chwImage(img.height, img.width, img.data.slice(), C);
  const { height: h, width: w } = img;
  const oh = turns === 2 ? h : w;
  const ow = turns === 2 ? w : h;
  const out = chwImage(oh, ow, undefined, C);
  for (let c = 0; c < C; c++) {
    const src = c * h * w;
    const dst = c * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        // Source pixel for output (y, x): CCW 1 → (x, w−1−y); 2 → (h−1−y, w−1−x); 3 → (h−1−x, y).
        let sy: number, sx: number;
        if (turns === 1) [sy, sx] = [x, w - 1 - y];
        else if (turns === 2) [sy, sx] = [h - 1 - y, w - 1 - x];
        else [sy, sx] = [h - 1 - x, y];
        out.data[dst + y * ow + x] = img.data[src + sy * w + sx];
      }
    }
  }
  return out;
}

// The image the augmentations work on: float32, planar CHW (C, H, W), values in [0, 1] before
// normalisation — torchvision's float tensor layout, so each op is checked against torchvision's functional op.
// RGB images have C = 3; a multi-channel fluorescence tile has its panel's C channels (the geometric ops and
// the blur work on any C, the photometric RGB ops on C = 3 only). C is data.length / (H · W).
import type { RgbImage } from '../../reader.js';

export interface ChwImage {
  /** (C, H, W) row-major: data[c * H * W + y * W + x]. */
  data: Float32Array;
  height: number;
  width: number;
}

export function chwImage(height: number, width: number, data?: Float32Array, channels = 3): ChwImage {
  const n = channels * height * width;
  if (data && data.length !== n)
    throw new RangeError(`chwImage: expected ${n} values for (${channels}, ${height}, ${width}), got ${data.length}`);
  return { data: data ?? new Float32Array(n), height, width };
}

/** C: the image's channel count. */
export function channelsOf(img: ChwImage): number {
  return img.data.length / (img.height * img.width);
}

/** Interleaved uint8 RGB (H, W, 3) → planar float (3, H, W) in [0, 1] (torchvision's ToTensor). */
export function fromRgb(rgb: RgbImage): ChwImage {
  const { width: w, height: h, data } = rgb;
  const plane = w * h;
  const out = chwImage(h, w);
  for (let i = 0; i < plane; i++) {
    out.data[i] = data[3 * i] / 255;
    out.data[plane + i] = data[3 * i + 1] / 255;
    out.data[2 * plane + i] = data[3 * i + 2] / 255;
  }
  return out;
}

/** Planar float (3, H, W) → interleaved uint8 (H, W, 3), clamped and rounded (for previews and tests). */
export function toRgb(img: ChwImage): RgbImage {
  const { width: w, height: h } = img;
  const plane = w * h;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) data[3 * i + c] = Math.round(Math.min(Math.max(img.data[c * plane + i], 0), 1) * 255);
  }
  return { data, width: w, height: h };
}

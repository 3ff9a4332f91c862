// Pixels into the model: read a tile's square (or a whole image's rectangle) at the working resolution (native level + resample) and
// normalise it into a batch buffer, channel-first, with the ImageNet mean and std DINOv2/v3 were trained with.
import { sharp } from '../../io/sharp.js';
import type { ImageReader, RgbImage } from '../../data/reader.js';
import type { WorkingResolution } from './resolution.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The working-pixel rectangle (x, y, width, height; height defaults to width) as RGB: read at the native level, resampled when needed. */
export async function readWorking(
  reader: ImageReader,
  res: WorkingResolution,
  x: number,
  y: number,
  width: number,
  height: number = width,
): Promise<RgbImage> {
  if (Math.abs(res.resample - 1) < 1e-9) return reader.readRegion(res.level, x, y, width, height);
  const lx = Math.round(x * res.resample);
  const ly = Math.round(y * res.resample);
  const lw = Math.max(1, Math.round(width * res.resample));
  const lh = Math.max(1, Math.round(height * res.resample));
  const src = await reader.readRegion(res.level, lx, ly, lw, lh); // (lh, lw, 3) at the native level
  const data = await sharp(src.data, { raw: { width: lw, height: lh, channels: 3 } })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer(); // (height, width, 3)
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/** Writes RGB (h, w, 3) uint8 normalised into `dst` at batch slot b of (B, 3, h, w) float32. */
export function normaliseInto(rgb: RgbImage, dst: Float32Array, b: number): void {
  const plane = rgb.width * rgb.height;
  const base = b * 3 * plane; // slot b of (B, 3, H, W)
  const scale = IMAGENET_STD.map((s) => 1 / (255 * s));
  const shift = IMAGENET_MEAN.map((m, c) => -m / IMAGENET_STD[c]);
  const d = rgb.data;
  for (let i = 0; i < plane; i++) {
    dst[base + i] = d[3 * i] * scale[0] + shift[0];
    dst[base + plane + i] = d[3 * i + 1] * scale[1] + shift[1];
    dst[base + 2 * plane + i] = d[3 * i + 2] * scale[2] + shift[2];
  }
}

// Texture mosaics for the pretraining quality test (pretrain-quality.test.ts): regions that differ in STRUCTURE only.
// Every texture mixes the same two stain-like colours half and half (same mean and spread per channel), plus
// the same pixel grain, so colour statistics cannot tell the regions apart; what differs is the pattern:
//   0 wavy horizontal stripes   1 wavy vertical stripes   2 isotropic blobs (~5 px)   3 fine grain (2 px)
// Stripes wobble (their phase follows a smooth random field) and every region has its own random phase, so
// two patches of one texture rarely share pixels: raw-pixel matching has to work for its hits. Horizontal vs
// vertical survives the training augmentations (h-flips only, no 90° turns in the default recipe).
// Each mosaic is four quadrant regions on a white "glass" frame (so the Otsu tissue mask of the sampler
// keeps all four regions); image i rotates the textures by i so every texture appears in every position.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharp } from '../../io/sharp.js';
import { gaussian, mulberry32 } from '../../common/random.js';

export const QUALITY_TEXTURES = 4;

export interface QualityMosaicSpec {
  /** Image side in pixels; the tissue is the inner side − 2·frame, split into quadrants. */
  side: number;
  /** Width of the white frame in pixels. */
  frame: number;
  /** Seeds phases, wobble and grain. */
  seed: number;
}

/** Region label at pixel (x, y) of image i: the texture index, or −1 on the frame. */
export function regionAt(spec: QualityMosaicSpec, i: number, x: number, y: number): number {
  const { side, frame } = spec;
  if (x < frame || y < frame || x >= side - frame || y >= side - frame) return -1;
  const half = side / 2;
  const q = (y < half ? 0 : 2) + (x < half ? 0 : 1);
  return (q + i) % QUALITY_TEXTURES;
}

/** A smooth random field in about [−1, 1]: a sum of a few random low-frequency cosines. */
function smoothField(u: () => number, wavelength: number): (x: number, y: number) => number {
  const waves = Array.from({ length: 6 }, () => {
    const a = 2 * Math.PI * u();
    const k = (2 * Math.PI) / (wavelength * (0.7 + 0.6 * u()));
    return { kx: k * Math.cos(a), ky: k * Math.sin(a), ph: 2 * Math.PI * u() };
  });
  const norm = Math.sqrt(2 / waves.length);
  return (x, y) => norm * waves.reduce((s, w) => s + Math.cos(w.kx * x + w.ky * y + w.ph), 0);
}

/** Pattern value (0 = colour A, 1 = colour B) of texture t, for one region's random draws. */
function pattern(t: number, u: () => number): (x: number, y: number) => number {
  const period = 9;
  const phase = 2 * Math.PI * u();
  const wobble = smoothField(u, 40);
  if (t === 0) return (x, y) => (Math.sin((2 * Math.PI * y) / period + phase + 1.6 * wobble(x, y)) > 0 ? 1 : 0);
  if (t === 1) return (x, y) => (Math.sin((2 * Math.PI * x) / period + phase + 1.6 * wobble(x, y)) > 0 ? 1 : 0);
  if (t === 2) {
    const blobs = smoothField(u, 11);
    return (x, y) => (blobs(x, y) > 0 ? 1 : 0);
  }
  // Grain: independent coin flips on 2 × 2 pixel cells (hashed from the cell and a per-region salt).
  const salt = Math.floor(u() * 0x7fffffff);
  return (x, y) => (grainBit(Math.floor(x / 2), Math.floor(y / 2), salt) ? 1 : 0);
}

/** A well-mixed hash bit of (cx, cy, salt). */
function grainBit(cx: number, cy: number, salt: number): number {
  let h = Math.imul(cx + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(cy + salt, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) & 1;
}

const COLOUR_A: readonly number[] = [120, 50, 125]; // haematoxylin-like purple
const COLOUR_B: readonly number[] = [215, 135, 185]; // eosin-like pink
const GLASS: readonly number[] = [242, 242, 240];
const GRAIN = 14;

/** Which texture lies at pixel (x, y) of image i (−1: the frame); regionAt is the quadrant mosaic. */
export type QualityLayout = (spec: QualityMosaicSpec, i: number, x: number, y: number) => number;

/** Interleaved RGB (side, side, 3) of mosaic i, its textures placed by `layout`. */
export function mosaicPixels(spec: QualityMosaicSpec, i: number, layout: QualityLayout = regionAt): Uint8Array {
  const { side } = spec;
  const u = mulberry32(spec.seed * 1000 + i + 1);
  const g = gaussian(u);
  const patterns = Array.from({ length: QUALITY_TEXTURES }, (_, t) => pattern(t, u));
  const px = new Uint8Array(side * side * 3); // (h, w, 3)
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const r = layout(spec, i, x, y);
      const p = r < 0 ? -1 : patterns[r](x, y);
      for (let c = 0; c < 3; c++) {
        const v = p < 0 ? GLASS[c] : (p ? COLOUR_B[c] : COLOUR_A[c]) + GRAIN * g();
        px[3 * (y * side + x) + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return px;
}

/** Writes `count` mosaics as PNGs (dir/quality-i.png); returns their paths. */
export async function writeQualityMosaics(
  dir: string,
  count: number,
  spec: QualityMosaicSpec,
  layout: QualityLayout = regionAt,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(dir, `quality-${i}.png`);
    await sharp(mosaicPixels(spec, i, layout), { raw: { width: spec.side, height: spec.side, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  return paths;
}

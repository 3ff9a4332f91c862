// Expected pixels for a served tile and the comparison statistics the e2e states its tolerances in.
import sharp from 'sharp';
import type { TileSourceInfo } from '../../core/common/api.js';
import { patternPixel } from '../../core/data/fixtures/pattern.js';

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Level-0 pixels per pixel of this level. */
  downsample: number;
}

/** The rectangle a DZI tile covers, in its level's pixels (overlap included on inner edges). */
export function dziTileRect(info: TileSourceInfo, level: number, tx: number, ty: number): TileRect {
  const downsample = 2 ** (info.maxLevel - level);
  const lw = Math.ceil(info.width / downsample);
  const lh = Math.ceil(info.height / downsample);
  const x = tx * info.tileSize - (tx > 0 ? info.overlap : 0);
  const y = ty * info.tileSize - (ty > 0 ? info.overlap : 0);
  const x1 = Math.min(lw, (tx + 1) * info.tileSize + info.overlap);
  const y1 = Math.min(lh, (ty + 1) * info.tileSize + info.overlap);
  return { x, y, width: x1 - x, height: y1 - y, downsample };
}

export async function decodeRgb(body: Buffer): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(body).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** The test pattern over `r`, averaged over each downsample × downsample block (libvips' pyramid is a
 * 2 × 2 mean per level, so this is the file's level up to JPEG error): (height, width, 3). */
export function expectedPattern(r: TileRect): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 3);
  const s = r.downsample;
  const n = s * s;
  let i = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      let a = 0,
        b = 0,
        c = 0;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) {
          const p = patternPixel((r.x + x) * s + dx, (r.y + y) * s + dy);
          a += p[0];
          b += p[1];
          c += p[2];
        }
      }
      out[i++] = Math.round(a / n);
      out[i++] = Math.round(b / n);
      out[i++] = Math.round(c / n);
    }
  }
  return out;
}

export interface DiffStats {
  /** Mean absolute difference over all channels. */
  mean: number;
  /** 99th percentile of the per-channel absolute difference. */
  p99: number;
  max: number;
}

export function diffStats(got: Uint8Array, want: Uint8Array): DiffStats {
  if (got.length !== want.length) throw new Error(`sizes differ: ${got.length} vs ${want.length}`);
  const hist = new Uint32Array(256);
  let sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    hist[d]++;
    sum += d;
  }
  let max = 0;
  for (let d = 255; d >= 0; d--)
    if (hist[d]) {
      max = d;
      break;
    }
  let acc = 0;
  let p99 = 0;
  for (let d = 0; d < 256; d++) {
    acc += hist[d];
    if (acc >= 0.99 * got.length) {
      p99 = d;
      break;
    }
  }
  return { mean: sum / got.length, p99, max };
}

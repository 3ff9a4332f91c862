// Helpers on 8-bit interleaved RGB images (core/data/reader.ts RgbImage): (height, width, 3).
import { DinoscopeError } from '../common/errors.js';
import type { RgbImage } from './reader.js';

/** The most pixels one readRegion call may return (a 8192 × 8192 region, 192 MiB). */
export const MAX_REGION_PIXELS = 8192 * 8192;

/** A white image (255 everywhere), as the area outside a slide reads. */
export function whiteImage(width: number, height: number): RgbImage {
  return { data: new Uint8Array(width * height * 3).fill(255), width, height };
}

/** Copy the w × h rectangle at (sx, sy) of src to (dx, dy) of dst; the caller clips to both images. */
export function copyRect(src: RgbImage, sx: number, sy: number, dst: RgbImage, dx: number, dy: number, w: number, h: number): void {
  const rowBytes = w * 3;
  for (let r = 0; r < h; r++) {
    const s = ((sy + r) * src.width + sx) * 3;
    const d = ((dy + r) * dst.width + dx) * 3;
    dst.data.set(src.data.subarray(s, s + rowBytes), d);
  }
}

/** Where a region meets one tile: tile (tx, ty) and the region's part in it, [x0, x1) × [y0, y1) in level coordinates. */
export interface TilePart {
  tx: number;
  ty: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Fetches, in parallel, every tile of a tiled level (`grid`) that the rectangle (x, y, width, height)
 * meets inside the level, and hands each one found to `copy` with the part of the rectangle it holds;
 * a tile `tile` gives as null (sparse, no data) is skipped, leaving the caller's background there.
 */
export async function eachTilePart<T>(
  grid: { width: number; height: number; tileWidth: number; tileHeight: number },
  x: number,
  y: number,
  width: number,
  height: number,
  tile: (tx: number, ty: number) => Promise<T | null>,
  copy: (t: T, part: TilePart) => void,
): Promise<void> {
  const left = Math.max(0, x);
  const top = Math.max(0, y);
  const right = Math.min(grid.width, x + width);
  const bottom = Math.min(grid.height, y + height);
  if (right <= left || bottom <= top) return;
  const { tileWidth: tw, tileHeight: th } = grid;
  const jobs: Promise<void>[] = [];
  for (let ty = Math.floor(top / th); ty * th < bottom; ty++) {
    for (let tx = Math.floor(left / tw); tx * tw < right; tx++) {
      jobs.push(
        tile(tx, ty).then((t) => {
          if (!t) return;
          const x0 = Math.max(left, tx * tw);
          const y0 = Math.max(top, ty * th);
          copy(t, { tx, ty, x0, y0, x1: Math.min(right, (tx + 1) * tw), y1: Math.min(bottom, (ty + 1) * th) });
        }),
      );
    }
  }
  await Promise.all(jobs);
}

/** Throws BAD_INPUT unless the request names an existing level and a sane rectangle. */
export function checkRegion(path: string, levels: number, level: number, x: number, y: number, w: number, h: number): void {
  const ints = [level, x, y, w, h].every((v) => Number.isInteger(v));
  if (!ints || level < 0 || level >= levels) throw new DinoscopeError('BAD_INPUT', `${path}: no level ${level} (the image has ${levels}).`);
  if (w <= 0 || h <= 0 || w * h > MAX_REGION_PIXELS)
    throw new DinoscopeError('BAD_INPUT', `${path}: region ${w} × ${h} is empty or larger than ${MAX_REGION_PIXELS} pixels.`);
}

/** Expand 1 (grey), 2 (grey + alpha), 3 or 4 (RGBA) interleaved channels to RGB; alpha is dropped. */
export function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  if (channels === 3) return { data, width, height };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (channels <= 2) {
      const v = data[i * channels];
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    } else {
      out[i * 3] = data[i * channels];
      out[i * 3 + 1] = data[i * channels + 1];
      out[i * 3 + 2] = data[i * channels + 2];
    }
  }
  return { data: out, width, height };
}

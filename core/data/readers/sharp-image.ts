// Images libvips decodes whole (PNG, JPEG, WebP, strip TIFF), through sharp.
// Small images (longest side ≤ SMALL_SIDE) are decoded once and cached; their lower levels are halvings
// made from that decode, down to a longest side ≤ 256. Large ones have one level and are read with
// sharp's extract on the file (libvips streams the decode); callers should build a pyramid cache for
// them (core/data/pyramid-cache.ts, needsPyramidCache). Untiled images report 256 × 256 tiles, the
// tile size the viewer uses for them. Pixel coordinates are as stored (EXIF orientation is not applied).
import type { Metadata } from 'sharp';
import { sharp } from '../../io/sharp.js';
import type { ImageLevel, ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader, OpenOptions, RgbImage } from '../reader.js';
import { downsampleOf } from '../resolution.js';
import { checkRegion, copyRect, toRgb, whiteImage } from '../rgb.js';

/** Longest side up to which an image is decoded whole and cached. */
export const SMALL_SIDE = 4096;
export const DEFAULT_MAX_PIXELS = 1e11;
/** The most pixels of an image without a native pyramid (PNG, JPEG, WebP, strip TIFF, a one-level tiled
 * TIFF): such an image is decoded whole, once, to build its pyramid cache, which takes about 20 s per
 * gigapixel here, so larger ones are refused at open with a message saying how to convert them. */
export const MAX_UNPYRAMIDED_PIXELS = 2 ** 30;

/** TOO_LARGE for an image without a native pyramid beyond MAX_UNPYRAMIDED_PIXELS, else nothing. */
export function checkUnpyramided(path: string, width: number, height: number): void {
  if (width * height <= MAX_UNPYRAMIDED_PIXELS) return;
  const gp = ((width * height) / 1e9).toFixed(1);
  throw new DinoscopeError(
    'TOO_LARGE',
    `${path}: ${width} × ${height} pixels (${gp} gigapixels) without reduced-resolution levels is more than the ${(MAX_UNPYRAMIDED_PIXELS / 1e9).toFixed(2)} gigapixels Dinoscope decodes whole; convert it to a tiled pyramidal TIFF first (e.g. vips tiffsave in.png out.tif --tile --pyramid --compression jpeg).`,
  );
}
const VIRTUAL_TILE = 256;

export interface SharpImageInfo {
  format: string;
  mpp?: number | null;
  vendor?: Record<string, string>;
}

/** Map a libvips/sharp failure to our error codes, naming the file. */
export function sharpError(path: string, err: unknown): DinoscopeError {
  if (err instanceof DinoscopeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0].trim();
  if (/unsupported image format|not a known file format|unsupported/i.test(first))
    return new DinoscopeError('UNSUPPORTED', `${path}: unsupported image (${first}).`);
  if (/pixel limit/i.test(first)) return new DinoscopeError('TOO_LARGE', `${path}: image too large (${first}).`);
  return new DinoscopeError('CORRUPT', `${path}: damaged or truncated image (${first}).`);
}

/** Decode (part of) an image to RGB with white behind any alpha. */
async function decode(path: string, region?: { left: number; top: number; width: number; height: number }): Promise<RgbImage> {
  try {
    let img = sharp(path, { limitInputPixels: false, failOn: 'truncated' });
    if (region) img = img.extract(region);
    const { data, info } = await img.flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  } catch (err) {
    throw sharpError(path, err);
  }
}

function halvings(width: number, height: number): ImageLevel[] {
  const levels: ImageLevel[] = [{ width, height, downsample: 1 }];
  let w = width;
  let h = height;
  while (Math.max(w, h) > VIRTUAL_TILE) {
    w = Math.max(1, Math.ceil(w / 2));
    h = Math.max(1, Math.ceil(h / 2));
    levels.push({ width: w, height: h, downsample: downsampleOf(width, w) });
  }
  return levels;
}

class SharpImageReader implements ImageReader {
  private readonly decoded = new Map<number, Promise<RgbImage>>();
  constructor(
    readonly path: string,
    readonly meta: ImageMetadata,
    private readonly small: boolean,
    full: RgbImage | null,
  ) {
    if (full) this.decoded.set(0, Promise.resolve(full));
  }

  private level(level: number): Promise<RgbImage> {
    let p = this.decoded.get(level);
    if (!p) {
      const { width, height } = this.meta.levels[level];
      p = this.level(0).then(async (full) => {
        const { data, info } = await sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } })
          .resize(width, height, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer({ resolveWithObject: true });
        return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
      });
      this.decoded.set(level, p);
    }
    return p;
  }

  async readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    checkRegion(this.path, this.meta.levels.length, level, x, y, width, height);
    const { width: lw, height: lh } = this.meta.levels[level];
    const out = whiteImage(width, height);
    const left = Math.max(0, x);
    const top = Math.max(0, y);
    const right = Math.min(lw, x + width);
    const bottom = Math.min(lh, y + height);
    if (right <= left || bottom <= top) return out;
    if (this.small) {
      const src = await this.level(level);
      copyRect(src, left, top, out, left - x, top - y, right - left, bottom - top);
    } else {
      const part = await decode(this.path, { left, top, width: right - left, height: bottom - top });
      copyRect(part, 0, 0, out, left - x, top - y, part.width, part.height);
    }
    return out;
  }

  async close(): Promise<void> {
    this.decoded.clear();
  }
}

/** Open an image sharp can decode. Small images are decoded now, so damage shows at open. */
export async function openSharpImage(path: string, info: SharpImageInfo, options: OpenOptions = {}): Promise<ImageReader> {
  let header: Metadata;
  try {
    header = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw sharpError(path, err);
  }
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  if (!(width > 0 && height > 0)) throw new DinoscopeError('CORRUPT', `${path}: the header gives no image size.`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels)
    throw new DinoscopeError('TOO_LARGE', `${path}: declares ${width} × ${height} pixels, more than the ${maxPixels} allowed.`);
  checkUnpyramided(path, width, height);
  const small = Math.max(width, height) <= SMALL_SIDE;
  const full = small ? await decode(path) : null;
  const meta: ImageMetadata = {
    format: info.format,
    width,
    height,
    levels: small ? halvings(width, height) : [{ width, height, downsample: 1 }],
    mpp: info.mpp ?? null,
    tileWidth: VIRTUAL_TILE,
    tileHeight: VIRTUAL_TILE,
    vendor: { ...(info.vendor ?? {}), ...(header.space ? { colourSpace: header.space } : {}), channels: String(header.channels ?? '') },
  };
  return new SharpImageReader(path, meta, small, full);
}

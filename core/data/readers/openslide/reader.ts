// An image read through OpenSlide (library.ts): levels, regions, mpp, vendor properties and associated
// images (label, macro, thumbnail) of the vendor formats our own readers do not handle. OpenSlide paints
// premultiplied ARGB with transparent pixels where the slide has no data; they are composited onto white,
// as every other reader shows missing tissue.
import { endianness } from 'node:os';
import type { ImageMetadata } from '../../../common/api.js';
import { DinoscopeError } from '../../../common/errors.js';
import type { ImageReader, RgbImage } from '../../reader.js';
import { checkRegion, MAX_REGION_PIXELS, whiteImage } from '../../rgb.js';
import { boundedVendor, MAX_VENDOR_ENTRIES, MAX_VENDOR_KEY, MAX_VENDOR_VALUE, plausibleMpp } from '../../vendor.js';
import type { OpenSlideApi, SlideHandle } from './library.js';

/** Property names read from a slide (real ones have tens to a few hundred); the rest are never copied. */
const MAX_PROPERTY_NAMES = 4096;
/** Levels and associated images a slide may list. */
const MAX_LEVELS = 64;
const MAX_ASSOCIATED = 16;

/** OpenSlide's standard properties (openslide.h), always kept when the slide has them. */
const STANDARD_PROPERTIES = [
  'openslide.vendor',
  'openslide.mpp-x',
  'openslide.mpp-y',
  'openslide.objective-power',
  'openslide.comment',
  'openslide.background-color',
  'openslide.bounds-x',
  'openslide.bounds-y',
  'openslide.bounds-width',
  'openslide.bounds-height',
  'openslide.quickhash-1',
  'openslide.level-count',
];

/** Byte offsets of A, R, G, B in one native-endian ARGB uint32. */
const [A, R, G, B] = endianness() === 'LE' ? [3, 2, 1, 0] : [0, 1, 2, 3];

/** Premultiplied ARGB → RGB over white: colour + (255 − alpha), exact for premultiplied values. */
function argbOnWhite(argb: Uint32Array, out: Uint8Array, outAt: (row: number) => number, width: number, height: number): void {
  const bytes = new Uint8Array(argb.buffer, argb.byteOffset, argb.byteLength);
  for (let y = 0; y < height; y++) {
    let d = outAt(y);
    for (let i = y * width * 4, end = i + width * 4; i < end; i += 4) {
      const white = 255 - bytes[i + A];
      out[d++] = bytes[i + R] + white;
      out[d++] = bytes[i + G] + white;
      out[d++] = bytes[i + B] + white;
    }
  }
}

function fail(path: string, api: OpenSlideApi, osr: SlideHandle, what: string): void {
  const error = api.error(osr);
  if (error) throw new DinoscopeError('CORRUPT', `${path}: OpenSlide could not ${what} (${error}).`);
}

/** Metadata of an open slide: levels, tile size, mpp and bounded vendor properties (openslide.*, the
 * vendor's own, and the associated images as `associatedImages` / `associated.NAME` = "WxH"). */
export function slideMeta(
  path: string,
  api: OpenSlideApi,
  osr: SlideHandle,
  maxPixels: number,
): { meta: ImageMetadata; downsamples: number[] } {
  const count = api.levelCount(osr);
  fail(path, api, osr, 'read its levels');
  if (!(count >= 1)) throw new DinoscopeError('CORRUPT', `${path}: OpenSlide found no pyramid levels in it.`);
  if (count > MAX_LEVELS)
    throw new DinoscopeError('CORRUPT', `${path}: it lists ${count} pyramid levels, more than the ${MAX_LEVELS} a slide may have.`);
  const levels = [];
  const downsamples: number[] = [];
  for (let l = 0; l < count; l++) {
    const { width, height } = api.levelDimensions(osr, l);
    const downsample = api.levelDownsample(osr, l);
    if (!(width > 0 && height > 0 && downsample >= 1))
      throw new DinoscopeError('CORRUPT', `${path}: level ${l} has no size (${width} × ${height}).`);
    levels.push({ width, height, downsample });
    downsamples.push(downsample);
  }
  const { width, height } = levels[0];
  if (width * height > maxPixels)
    throw new DinoscopeError('TOO_LARGE', `${path}: declares ${width} × ${height} pixels, more than the ${maxPixels} allowed.`);
  const value = (name: string): string | null => api.propertyValue(osr, name, MAX_VENDOR_VALUE + 1);
  // After the standard properties: OpenSlide's other ones, the vendor's, then the per-level ones.
  const names = api.propertyNames(osr, MAX_PROPERTY_NAMES, MAX_VENDOR_KEY + 1);
  const rank = (n: string): number => (n.startsWith('openslide.level[') ? 2 : n.startsWith('openslide.') ? 0 : 1);
  const ordered = names.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i);
  const vendor: Record<string, string> = {};
  const associated = api.associatedNames(osr, MAX_ASSOCIATED, MAX_VENDOR_KEY);
  if (associated.length > 0) {
    vendor.associatedImages = associated.join(',');
    for (const a of associated) {
      const d = api.associatedDimensions(osr, a);
      vendor[`associated.${a}`] = `${d.width}x${d.height}`;
    }
  }
  // OpenSlide's standard properties by name: a slide with thousands of vendor fields lists them first.
  for (const n of STANDARD_PROPERTIES) {
    const v = value(n);
    if (v !== null) vendor[n] = v;
  }
  for (const { n } of ordered) {
    if (Object.keys(vendor).length >= MAX_VENDOR_ENTRIES) break;
    if (!(n in vendor)) vendor[n] = value(n) ?? '';
  }
  fail(path, api, osr, 'read its properties');
  const warnings: string[] = [];
  const stated = Number.parseFloat(value('openslide.mpp-x') ?? '');
  const mpp = plausibleMpp(Number.isFinite(stated) ? stated : tiffResolutionMpp(value), 'openslide.mpp-x');
  if (mpp.warning) warnings.push(mpp.warning);
  const tile = (key: string): number => {
    const v = Number.parseInt(value(key) ?? '', 10);
    return Number.isFinite(v) && v >= 16 && v <= 4096 ? v : 256;
  };
  const meta: ImageMetadata = {
    format: `openslide-${value('openslide.vendor') ?? 'unknown'}`.slice(0, 64),
    width,
    height,
    levels,
    mpp: mpp.mpp,
    tileWidth: tile('openslide.level[0].tile-width'),
    tileHeight: tile('openslide.level[0].tile-height'),
    vendor: boundedVendor(vendor),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  return { meta, downsamples };
}

/** Microns per pixel from the TIFF resolution tags OpenSlide lists (OpenSlide 3.4 states no mpp for a
 * generic TIFF; 4.x does), within the 0.01–50 µm our TIFF reader accepts; else null. */
function tiffResolutionMpp(value: (name: string) => string | null): number | null {
  const xres = Number.parseFloat(value('tiff.XResolution') ?? '');
  const unit = value('tiff.ResolutionUnit');
  const per = unit === 'centimeter' ? 10000 : unit === 'inch' ? 25400 : 0;
  if (!(xres > 0) || per === 0) return null;
  const mpp = per / xres;
  return mpp >= 0.01 && mpp <= 50 ? mpp : null;
}

export class OpenSlideReader implements ImageReader {
  private osr: SlideHandle | null;

  constructor(
    readonly path: string,
    readonly meta: ImageMetadata,
    private readonly api: OpenSlideApi,
    osr: SlideHandle,
    private readonly downsamples: readonly number[],
  ) {
    this.osr = osr;
  }

  private handle(): SlideHandle {
    if (this.osr === null) throw new DinoscopeError('BAD_INPUT', `${this.path}: the reader was closed.`);
    return this.osr;
  }

  async readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    checkRegion(this.path, this.meta.levels.length, level, x, y, width, height);
    const osr = this.handle();
    const out = whiteImage(width, height);
    const { width: lw, height: lh } = this.meta.levels[level];
    // Only the part inside the level is asked of OpenSlide; the rest stays white.
    const left = Math.max(0, x);
    const top = Math.max(0, y);
    const right = Math.min(lw, x + width);
    const bottom = Math.min(lh, y + height);
    if (right <= left || bottom <= top) return out;
    const w = right - left;
    const h = bottom - top;
    const argb = new Uint32Array(w * h);
    // OpenSlide takes the top-left corner in level-0 pixels and divides it by the level's downsample again.
    const ds = this.downsamples[level];
    this.api.readRegion(osr, argb, Math.round(left * ds), Math.round(top * ds), level, w, h);
    fail(this.path, this.api, osr, `read level ${level} at ${left},${top}`);
    argbOnWhite(argb, out.data, (row) => ((top - y + row) * width + (left - x)) * 3, w, h);
    return out;
  }

  /** An associated image (label, macro, thumbnail, …) by its name in meta.vendor.associatedImages. */
  async readAssociated(name: string): Promise<RgbImage> {
    const osr = this.handle();
    const listed = (this.meta.vendor.associatedImages ?? '').split(',');
    if (!listed.includes(name))
      throw new DinoscopeError(
        'NOT_FOUND',
        `${this.path}: no associated image "${name}" (it has ${listed.filter(Boolean).join(', ') || 'none'}).`,
      );
    const { width, height } = this.api.associatedDimensions(osr, name);
    if (!(width > 0 && height > 0) || width * height > MAX_REGION_PIXELS)
      throw new DinoscopeError(
        'TOO_LARGE',
        `${this.path}: its ${name} image is ${width} × ${height} pixels, more than the ${MAX_REGION_PIXELS} read at once.`,
      );
    const argb = new Uint32Array(width * height);
    this.api.readAssociated(osr, name, argb);
    fail(this.path, this.api, osr, `read its ${name} image`);
    const out = whiteImage(width, height);
    argbOnWhite(argb, out.data, (row) => row * width * 3, width, height);
    return out;
  }

  async close(): Promise<void> {
    const osr = this.osr;
    this.osr = null;
    if (osr !== null) this.api.close(osr);
  }
}

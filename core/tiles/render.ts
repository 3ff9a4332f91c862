// One deep-zoom tile from a reader: read the tile's footprint on the best native level (largest
// downsample ≤ the needed one, core/data/resolution.ts) and resize it to the tile (lanczos3 downscale);
// when the native level has the needed downsample the pixels pass through untouched. Encoded JPEG q85
// (no mozjpeg: speed). When the tile is exactly one stored JPEG tile of the file, its bytes are served as
// they are (no decode, no re-encode): the common case for pyramidal slides and pyramid caches. A
// multi-channel image drawn with display settings reads its channels and composites them
// (core/data/channels/composite.ts) before the resize; without settings its reader's default composite.
import { sharp } from '../io/sharp.js';
import { DinoscopeError } from '../common/errors.js';
import type { ChannelDisplay } from '../common/api.js';
import { composite } from '../data/channels/composite.js';
import type { ImageReader, RgbImage } from '../data/reader.js';
import { levelForDownsample, sameDownsample } from '../data/resolution.js';
import { dziGeometry, levelDownsample, tileRect, type DziGeometry } from './dzi.js';

export const JPEG_QUALITY = 85;

export function geometryOf(reader: ImageReader): DziGeometry {
  return dziGeometry(reader.meta.width, reader.meta.height);
}

/** The tile's RGB pixels (tile width × height × 3), before encoding; a multi-channel image with `display`
 * drawn with those settings. */
export async function renderTileRgb(
  reader: ImageReader,
  level: number,
  x: number,
  y: number,
  display?: readonly ChannelDisplay[],
): Promise<RgbImage> {
  const channels = display && reader.readChannels?.bind(reader);
  const read = channels
    ? async (l: number, rx: number, ry: number, w: number, h: number): Promise<RgbImage> =>
        composite(await channels(l, rx, ry, w, h), display)
    : (l: number, rx: number, ry: number, w: number, h: number): Promise<RgbImage> => reader.readRegion(l, rx, ry, w, h);
  const g = geometryOf(reader);
  const rect = tileRect(g, level, x, y);
  if (!rect)
    throw new DinoscopeError('NOT_FOUND', `Tile ${level}/${x}_${y} is outside ${reader.path}'s deep-zoom grid (maxLevel ${g.maxLevel}).`);
  const d = levelDownsample(g, level);
  const n = levelForDownsample(reader.meta.levels, d);
  const native = reader.meta.levels[n];
  const scale = d / native.downsample; // ≥ 1: native pixels per output pixel
  if (sameDownsample(d, native.downsample)) return read(n, rect.x, rect.y, rect.width, rect.height);
  // The footprint on the native level, grown to whole pixels and kept inside the level.
  const x0 = Math.floor(rect.x * scale);
  const y0 = Math.floor(rect.y * scale);
  const x1 = Math.max(x0 + 1, Math.min(native.width, Math.ceil((rect.x + rect.width) * scale)));
  const y1 = Math.max(y0 + 1, Math.min(native.height, Math.ceil((rect.y + rect.height) * scale)));
  const src = await read(n, x0, y0, x1 - x0, y1 - y0); // (y1-y0, x1-x0, 3)
  const data = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .resize(rect.width, rect.height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer(); // (rect.height, rect.width, 3)
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: rect.width, height: rect.height };
}

export async function encodeJpeg(rgb: RgbImage): Promise<Buffer> {
  return sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .jpeg({ quality: JPEG_QUALITY, mozjpeg: false })
    .toBuffer();
}

/** Readers that can hand out a level's stored JPEG tiles (the tiled TIFF reader). */
interface JpegTileReader extends ImageReader {
  jpegTile(level: number, tx: number, ty: number): Promise<{ bytes: Uint8Array; tileWidth: number; tileHeight: number } | null>;
}

function hasJpegTiles(reader: ImageReader): reader is JpegTileReader {
  return typeof (reader as Partial<JpegTileReader>).jpegTile === 'function';
}

/** The file's own JPEG bytes when the DZI tile is exactly one stored tile: the native level has the DZI
 * level's downsample, its tiles are tileSize square, and the tile lies wholly inside the level (edge tiles
 * carry encoder padding and are cropped by re-encoding instead). Else null. */
async function storedJpegTile(reader: ImageReader, level: number, x: number, y: number): Promise<Uint8Array | null> {
  if (!hasJpegTiles(reader)) return null;
  const g = geometryOf(reader);
  const rect = tileRect(g, level, x, y);
  if (!rect || rect.width !== g.tileSize || rect.height !== g.tileSize) return null;
  const d = levelDownsample(g, level);
  const n = levelForDownsample(reader.meta.levels, d);
  const native = reader.meta.levels[n];
  if (!sameDownsample(d, native.downsample) || rect.x + rect.width > native.width || rect.y + rect.height > native.height) return null;
  const stored = await reader.jpegTile(n, x, y);
  if (!stored || stored.tileWidth !== g.tileSize || stored.tileHeight !== g.tileSize) return null;
  return stored.bytes;
}

export async function renderTileJpeg(
  reader: ImageReader,
  level: number,
  x: number,
  y: number,
  display?: readonly ChannelDisplay[],
): Promise<Uint8Array> {
  if (display && reader.readChannels) return encodeJpeg(await renderTileRgb(reader, level, x, y, display));
  return (await storedJpegTile(reader, level, x, y)) ?? encodeJpeg(await renderTileRgb(reader, level, x, y));
}

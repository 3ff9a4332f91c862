// Decode one TIFF tile's bytes to an RGB tile of the full tile size: (tileHeight, tileWidth, 3). Nothing
// is allocated beyond the level's declared tile size (itself capped in level.ts): a JPEG frame larger
// than the tile is refused from its header before decoding, inflate and LZW stop at the tile's size.
import { inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { sharp } from '../../io/sharp.js';
import type { RgbImage } from '../reader.js';
import { toRgb, whiteImage, copyRect } from '../rgb.js';
import { DinoscopeError } from '../../common/errors.js';
import { completeJpeg, jpegFrameSize } from './jpeg.js';
import type { TileLayout } from './level.js';
import { decodeLzw } from './lzw.js';
import { Compression, Photometric } from './tags.js';

const inflateAsync = promisify(inflate);

/** Undo horizontal differencing (Predictor 2) for 8-bit samples, in place. */
export function undoHorizontalPredictor(data: Uint8Array, width: number, height: number, samples: number): void {
  const row = width * samples;
  for (let y = 0; y < height; y++) {
    const start = y * row;
    for (let i = start + samples; i < start + row; i++) data[i] = (data[i] + data[i - samples]) & 0xff;
  }
}

async function decodeJpeg(bytes: Uint8Array, layout: TileLayout, what: string): Promise<RgbImage> {
  const rgb = layout.photometric === Photometric.RGB;
  const stream = completeJpeg(bytes, layout.jpegTables, rgb);
  const frame = jpegFrameSize(stream);
  if (!frame) throw new Error('no JPEG frame header (SOF) before the scan');
  if (frame.width > layout.tileWidth || frame.height > layout.tileHeight) {
    throw new DinoscopeError(
      'CORRUPT',
      `${what}: its JPEG frame is ${frame.width} × ${frame.height} pixels, larger than the level's ${layout.tileWidth} × ${layout.tileHeight} tiles.`,
    );
  }
  const limitInputPixels = Math.max(1, layout.tileWidth * layout.tileHeight);
  const { data, info } = await sharp(stream, { failOn: 'error', limitInputPixels }).raw().toBuffer({ resolveWithObject: true });
  const img = toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  if (img.width === layout.tileWidth && img.height === layout.tileHeight) return img;
  const tile = whiteImage(layout.tileWidth, layout.tileHeight);
  copyRect(img, 0, 0, tile, 0, 0, Math.min(img.width, tile.width), Math.min(img.height, tile.height));
  return tile;
}

/** `what` names the tile in errors (e.g. "/a/b.svs: tile 3,4 of level 0"). */
export async function decodeTile(bytes: Uint8Array, layout: TileLayout, what = 'a tile'): Promise<RgbImage> {
  const { tileWidth: w, tileHeight: h, samples } = layout;
  if (layout.compression === Compression.JPEG) return decodeJpeg(bytes, layout, what);
  const expected = w * h * samples;
  let raw: Uint8Array;
  switch (layout.compression) {
    case Compression.None:
      raw = bytes;
      break;
    case Compression.LZW:
      raw = decodeLzw(bytes, expected);
      break;
    default: {
      const b = await inflateAsync(bytes, { maxOutputLength: expected + 1024 * 1024 });
      raw = new Uint8Array(b.buffer, b.byteOffset, b.length);
    }
  }
  if (raw.length < expected) {
    const full = new Uint8Array(expected); // short tiles (trailing zeros omitted) are zero-padded
    full.set(raw);
    raw = full;
  } else if (raw === bytes || raw.length > expected) raw = raw.slice(0, expected);
  if (layout.predictor === 2) undoHorizontalPredictor(raw, w, h, samples);
  if (layout.photometric === Photometric.MinIsWhite) for (let i = 0; i < raw.length; i++) raw[i] = 255 - raw[i];
  return toRgb(raw, w, h, samples);
}

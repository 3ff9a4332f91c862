// One tiled TIFF directory as a pyramid level: its geometry and pixel format, validated before any tile
// is read (sane tile size, supported sample layout, tile offsets and byte counts inside the file).
import { DinoscopeError } from '../../common/errors.js';
import { type Ifd, tagBytes, tagNumber, tagNumbers } from './parse.js';
import { Compression, Photometric, Tag } from './tags.js';

export const MAX_TILE_SIDE = 16384;
/** The most pixels one tile may have (4096 × 4096: 48 MiB decoded as RGB). Real pyramids use 256–1024;
 * a larger tile would be allocated in full for every decode, whatever the file's size. */
export const MAX_TILE_PIXELS = 4096 * 4096;
/** The most compressed bytes one tile may take (a 16384² RGB tile stored raw is 768 MiB; we refuse it). */
export const MAX_TILE_BYTES = 256 * 2 ** 20;

export interface TileLayout {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  tilesAcross: number;
  tilesDown: number;
  compression: number;
  photometric: number;
  samples: number;
  predictor: number;
  jpegTables: Uint8Array | null;
  offsets: number[];
  byteCounts: number[];
}

const supportedCompression = new Set<number>([
  Compression.None,
  Compression.LZW,
  Compression.JPEG,
  Compression.AdobeDeflate,
  Compression.Deflate,
]);

const compressionNames: Record<number, string> = {
  [Compression.OldJPEG]: 'old-style JPEG (compression 6)',
  [Compression.PackBits]: 'PackBits',
  [Compression.Aperio_JP2K_YCbCr]: 'Aperio JPEG 2000 (YCbCr)',
  [Compression.Aperio_JP2K_RGB]: 'Aperio JPEG 2000 (RGB)',
  [Compression.JPEG2000]: 'JPEG 2000',
  [Compression.WebP]: 'WebP',
  [Compression.ZSTD]: 'Zstandard',
};

export function isTiled(ifd: Ifd): boolean {
  return ifd.tags.has(Tag.TileWidth) && ifd.tags.has(Tag.TileOffsets);
}

/** Validate a tiled directory and describe it; UNSUPPORTED or CORRUPT with the reason otherwise. */
export function tileLayout(path: string, ifd: Ifd, fileSize: number): TileLayout {
  const unsupported = (why: string): DinoscopeError => new DinoscopeError('UNSUPPORTED', `${path}: unsupported TIFF variant (${why}).`);
  const corrupt = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: ${why}.`);
  const width = tagNumber(ifd, Tag.ImageWidth, 0);
  const height = tagNumber(ifd, Tag.ImageLength, 0);
  const tileWidth = tagNumber(ifd, Tag.TileWidth, 0);
  const tileHeight = tagNumber(ifd, Tag.TileLength, 0);
  if (!(width > 0 && height > 0)) throw corrupt(`a directory has no image size`);
  if (!(tileWidth > 0 && tileHeight > 0 && tileWidth <= MAX_TILE_SIDE && tileHeight <= MAX_TILE_SIDE))
    throw corrupt(`tile size ${tileWidth} × ${tileHeight} is not between 1 and ${MAX_TILE_SIDE}`);
  if (tileWidth * tileHeight > MAX_TILE_PIXELS) {
    throw new DinoscopeError(
      'TOO_LARGE',
      `${path}: its tiles are ${tileWidth} × ${tileHeight} pixels, more than the ${MAX_TILE_PIXELS} (4096 × 4096) Dinoscope decodes at once; re-save it with smaller tiles (e.g. vips tiffsave --tile --tile-width 512).`,
    );
  }
  const samples = tagNumber(ifd, Tag.SamplesPerPixel, 1);
  const bits = tagNumbers(ifd, Tag.BitsPerSample);
  const compression = tagNumber(ifd, Tag.Compression, 1);
  const photometric = tagNumber(ifd, Tag.Photometric, samples >= 3 ? Photometric.RGB : Photometric.MinIsBlack);
  const planar = tagNumber(ifd, Tag.PlanarConfig, 1);
  const sampleFormat = tagNumber(ifd, Tag.SampleFormat, 1);
  const predictor = tagNumber(ifd, Tag.Predictor, 1);
  if (bits.some((b) => b !== 8)) throw unsupported(`${bits[0]}-bit samples`);
  if (sampleFormat !== 1) throw unsupported(`sample format ${sampleFormat}, not unsigned integers`);
  if (samples < 1 || samples > 4) throw unsupported(`${samples} samples per pixel`);
  if (planar !== 1 && samples > 1) throw unsupported(`planar configuration ${planar}`);
  if (!supportedCompression.has(compression)) throw unsupported(`${compressionNames[compression] ?? `compression ${compression}`} tiles`);
  if (photometric === Photometric.YCbCr && compression !== Compression.JPEG) throw unsupported('YCbCr pixels outside JPEG');
  if (![Photometric.MinIsWhite, Photometric.MinIsBlack, Photometric.RGB, Photometric.YCbCr].includes(photometric as 0))
    throw unsupported(`photometric interpretation ${photometric}`);
  if ((photometric === Photometric.RGB || photometric === Photometric.YCbCr) && samples < 3)
    throw corrupt(`RGB photometric with ${samples} samples`);
  if (predictor !== 1 && predictor !== 2) throw unsupported(`predictor ${predictor}`);
  const tilesAcross = Math.ceil(width / tileWidth);
  const tilesDown = Math.ceil(height / tileHeight);
  const offsets = tagNumbers(ifd, Tag.TileOffsets);
  const byteCounts = tagNumbers(ifd, Tag.TileByteCounts);
  const count = tilesAcross * tilesDown;
  if (offsets.length < count || byteCounts.length < count)
    throw corrupt(`a ${width} × ${height} level needs ${count} tiles but lists ${Math.min(offsets.length, byteCounts.length)}`);
  for (let i = 0; i < count; i++) {
    if (byteCounts[i] > MAX_TILE_BYTES) throw corrupt(`tile ${i} claims ${byteCounts[i]} bytes`);
    if (offsets[i] + byteCounts[i] > fileSize) throw corrupt(`tile ${i} lies beyond the end of the file (truncated?)`);
  }
  return {
    width,
    height,
    tileWidth,
    tileHeight,
    tilesAcross,
    tilesDown,
    compression,
    photometric,
    samples,
    predictor,
    jpegTables: tagBytes(ifd, Tag.JPEGTables),
    offsets,
    byteCounts,
  };
}

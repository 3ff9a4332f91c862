// One tiled TIFF directory holding one channel's samples (a plane of a multi-channel OME-TIFF): its
// geometry and sample format, validated before any tile is read. Unlike level.ts (8-bit RGB and grey for
// display) it takes 8- and 16-bit unsigned integers and 32-bit floats, one sample per pixel.
import type { ChannelSampleType } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { MAX_TILE_BYTES, MAX_TILE_PIXELS, MAX_TILE_SIDE } from './level.js';
import { type Ifd, tagNumber, tagNumbers } from './parse.js';
import { Compression, Tag } from './tags.js';

export interface SampleLayout {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  tilesAcross: number;
  tilesDown: number;
  compression: number;
  predictor: number;
  sampleType: ChannelSampleType;
  /** Bytes per sample: 1, 2 or 4. */
  bytes: number;
  littleEndian: boolean;
  offsets: number[];
  byteCounts: number[];
}

const compressions = new Set<number>([Compression.None, Compression.LZW, Compression.AdobeDeflate, Compression.Deflate]);
const compressionNames: Record<number, string> = {
  [Compression.JPEG]: 'JPEG',
  [Compression.PackBits]: 'PackBits',
  [Compression.JPEG2000]: 'JPEG 2000',
  [Compression.ZSTD]: 'Zstandard',
  [Compression.WebP]: 'WebP',
};

/** The sample type of a directory, or an UNSUPPORTED error naming what it holds. */
export function sampleTypeOf(path: string, ifd: Ifd): { sampleType: ChannelSampleType; bytes: number } {
  const bits = tagNumbers(ifd, Tag.BitsPerSample)[0] ?? 1;
  const format = tagNumber(ifd, Tag.SampleFormat, 1);
  if (format === 1 && bits === 8) return { sampleType: 'uint8', bytes: 1 };
  if (format === 1 && bits === 16) return { sampleType: 'uint16', bytes: 2 };
  if (format === 3 && bits === 32) return { sampleType: 'float32', bytes: 4 };
  const kind = format === 2 ? 'signed integer' : format === 3 ? 'floating-point' : 'unsigned integer';
  throw new DinoscopeError(
    'UNSUPPORTED',
    `${path}: its channels hold ${bits}-bit ${kind} samples; Dinoscope reads 8- and 16-bit unsigned and 32-bit float channels (convert it, e.g. with bfconvert or QuPath).`,
  );
}

export function sampleLayout(path: string, ifd: Ifd, fileSize: number, littleEndian: boolean): SampleLayout {
  const unsupported = (why: string): DinoscopeError => new DinoscopeError('UNSUPPORTED', `${path}: unsupported TIFF variant (${why}).`);
  const corrupt = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: ${why}.`);
  const width = tagNumber(ifd, Tag.ImageWidth, 0);
  const height = tagNumber(ifd, Tag.ImageLength, 0);
  if (!ifd.tags.has(Tag.TileWidth))
    throw unsupported(
      'channel planes in strips; Dinoscope reads tiled multi-channel OME-TIFF (re-save it tiled, e.g. bfconvert -tilex 512 -tiley 512)',
    );
  const tileWidth = tagNumber(ifd, Tag.TileWidth, 0);
  const tileHeight = tagNumber(ifd, Tag.TileLength, 0);
  if (!(width > 0 && height > 0)) throw corrupt('a channel plane has no image size');
  if (!(tileWidth > 0 && tileHeight > 0 && tileWidth <= MAX_TILE_SIDE && tileHeight <= MAX_TILE_SIDE))
    throw corrupt(`tile size ${tileWidth} × ${tileHeight} is not between 1 and ${MAX_TILE_SIDE}`);
  if (tileWidth * tileHeight > MAX_TILE_PIXELS)
    throw new DinoscopeError(
      'TOO_LARGE',
      `${path}: its tiles are ${tileWidth} × ${tileHeight} pixels, more than the ${MAX_TILE_PIXELS} (4096 × 4096) Dinoscope decodes at once; re-save it with smaller tiles.`,
    );
  const samples = tagNumber(ifd, Tag.SamplesPerPixel, 1);
  if (samples !== 1) throw unsupported(`${samples} samples per pixel in a channel plane`);
  const { sampleType, bytes } = sampleTypeOf(path, ifd);
  const compression = tagNumber(ifd, Tag.Compression, 1);
  if (!compressions.has(compression)) throw unsupported(`${compressionNames[compression] ?? `compression ${compression}`} channel tiles`);
  const predictor = tagNumber(ifd, Tag.Predictor, 1);
  if (predictor !== 1 && predictor !== 2) throw unsupported(`predictor ${predictor}`);
  if (predictor === 2 && sampleType === 'float32') throw unsupported('horizontal differencing of float samples');
  const tilesAcross = Math.ceil(width / tileWidth);
  const tilesDown = Math.ceil(height / tileHeight);
  const offsets = tagNumbers(ifd, Tag.TileOffsets);
  const byteCounts = tagNumbers(ifd, Tag.TileByteCounts);
  const count = tilesAcross * tilesDown;
  if (offsets.length < count || byteCounts.length < count)
    throw corrupt(`a ${width} × ${height} channel plane needs ${count} tiles but lists ${Math.min(offsets.length, byteCounts.length)}`);
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
    predictor,
    sampleType,
    bytes,
    littleEndian,
    offsets,
    byteCounts,
  };
}

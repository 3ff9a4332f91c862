// The one reader interface (OpenSeadragon's tile-source idea, STYLE.md): the pyramid math lives with the
// caller; each format only says whether it can open a file and how to read a region at a level.
import type { ImageMetadata } from '../common/api.js';

/** 8-bit interleaved RGB pixels, row-major: data.length === width * height * 3. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Samples of every channel of a region, planar: data[c * width * height + y * width + x], in the file's own
 * units (integers as stored, floats as stored; no scaling). channels === meta.channels.length. */
export interface ChannelImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export interface ImageReader {
  readonly path: string;
  readonly meta: ImageMetadata;
  /**
   * Pixels of the rectangle (x, y, width, height) in the coordinates of `level` (0 = full resolution).
   * The rectangle may extend past the image: those pixels are white (255), as on a glass slide — black
   * (0) for a multi-channel (fluorescence) reader, whose background is dark.
   */
  readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage>;
  /**
   * Multi-channel readers only (meta.channels set): every channel's samples of the rectangle, as
   * readRegion's. Past the image the samples are 0 (a dark background, as in fluorescence). readRegion of
   * such a reader returns a default composite (each channel in its colour, auto-contrasted), so every
   * RGB consumer keeps working.
   */
  readChannels?(level: number, x: number, y: number, width: number, height: number): Promise<ChannelImage>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Refuse images whose level 0 has more pixels than this without reading them (default 10^11, i.e. a
   * 316k × 316k slide). Only tiled formats read lazily; whole-image decoders have their own lower limit. */
  maxPixels?: number;
}

/** One file format. `sniff` looks only at the first bytes (≥ 64 KiB when the file has them) and the path. */
export interface ReaderFormat {
  id: string;
  description: string;
  sniff(head: Uint8Array, path: string): boolean;
  open(path: string, options?: OpenOptions): Promise<ImageReader>;
}

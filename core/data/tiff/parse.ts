// A small TIFF/BigTIFF structure parser: header, IFD chain, SubIFDs and tag values, read at offsets
// (never the whole file). Only the tags the readers use are loaded, each within its own cap, and all of
// them within one budget per file: a hostile file can point thousands of tags (or directories) at the
// same megabytes, which would otherwise be read and decoded again each time. A 100k × 100k slide's
// TileOffsets are ~1 MB; descriptions longer than their cap are cut (only their start is ever used).
import { DinoscopeError } from '../../common/errors.js';
import type { FileSource } from './source.js';
import { Tag, typeSize } from './tags.js';

/** Numbers for numeric types (rationals as one number), text for ASCII, bytes for BYTE/UNDEFINED. */
export type TagValue = number[] | string | Uint8Array;

export interface Ifd {
  /** File offset of this directory (identifies it). */
  offset: number;
  tags: Map<number, TagValue>;
  /** Directories listed by this one's SubIFDs tag (reduced resolutions in OME-TIFF and libvips). */
  subIfds: Ifd[];
}

export interface TiffStructure {
  littleEndian: boolean;
  bigTiff: boolean;
  /** The main IFD chain, in file order. */
  ifds: Ifd[];
}

const MAX_IFDS = 1024;
const MAX_ENTRIES = 65535;
const MAX_SUBIFDS = 64;
/** Directory bytes (entries) read per file, over all directories. */
export const MAX_DIRECTORY_BYTES = 64 * 2 ** 20;
/** Tag value bytes loaded per file, over all directories (a 300k × 300k BigTIFF's offsets need ~30 MiB). */
export const MAX_TAG_BYTES = 64 * 2 ** 20;
/** The most bytes of an ImageDescription that are read: the start of longer ones. */
export const MAX_DESCRIPTION_BYTES = 4 * 2 ** 20;

/** Tags whose values are loaded, with the most bytes each may take (beyond that: CORRUPT, or cut for
 * text). Every other tag is skipped unread. */
const loadedTags = new Map<number, number>([
  [Tag.NewSubfileType, 64],
  [Tag.ImageWidth, 64],
  [Tag.ImageLength, 64],
  [Tag.BitsPerSample, 64],
  [Tag.Compression, 64],
  [Tag.Photometric, 64],
  [Tag.ImageDescription, MAX_DESCRIPTION_BYTES],
  [Tag.SamplesPerPixel, 64],
  [Tag.XResolution, 64],
  [Tag.YResolution, 64],
  [Tag.PlanarConfig, 64],
  [Tag.ResolutionUnit, 64],
  [Tag.Software, 4096],
  [Tag.DateTime, 4096],
  [Tag.Predictor, 64],
  [Tag.TileWidth, 64],
  [Tag.TileLength, 64],
  [Tag.TileOffsets, 64 * 2 ** 20],
  [Tag.TileByteCounts, 64 * 2 ** 20],
  [Tag.SubIFDs, MAX_SUBIFDS * 8],
  [Tag.SampleFormat, 64],
  [Tag.JPEGTables, 1 * 2 ** 20],
  // Only to tell vendor flavours that OpenSlide reads (readers/openslide/vendor-tiff.ts).
  [Tag.XMP, 64 * 1024],
  [Tag.NdpiFormat, 64],
]);
/** Tags that are text, or of which only the start is used: longer values are cut to their cap instead of
 * refused. */
const textTags = new Set<number>([Tag.ImageDescription, Tag.Software, Tag.DateTime, Tag.XMP, Tag.NdpiFormat]);

class Parser {
  private readonly visited = new Set<number>();
  private directoryBytes = 0;
  private tagBytes = 0;
  constructor(
    private readonly src: FileSource,
    readonly littleEndian: boolean,
    readonly bigTiff: boolean,
  ) {}

  private corrupt(why: string): DinoscopeError {
    return new DinoscopeError('CORRUPT', `${this.src.path}: ${why}.`);
  }

  offsetAt(view: DataView, at: number): number {
    if (!this.bigTiff) return view.getUint32(at, this.littleEndian);
    const v = view.getBigUint64(at, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt('an offset does not fit in 2^53');
    return Number(v);
  }

  private decodeValues(bytes: Uint8Array, type: number, count: number): TagValue {
    if (type === 1 || type === 7 || type === 6) return bytes.slice(0, count);
    if (type === 2) {
      let end = count;
      while (end > 0 && bytes[end - 1] === 0) end--;
      return new TextDecoder('utf-8').decode(bytes.subarray(0, end));
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = this.littleEndian;
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      switch (type) {
        case 3:
          out[i] = view.getUint16(i * 2, le);
          break;
        case 8:
          out[i] = view.getInt16(i * 2, le);
          break;
        case 4:
        case 13:
          out[i] = view.getUint32(i * 4, le);
          break;
        case 9:
          out[i] = view.getInt32(i * 4, le);
          break;
        case 5: {
          const d = view.getUint32(i * 8 + 4, le);
          out[i] = d === 0 ? 0 : view.getUint32(i * 8, le) / d;
          break;
        }
        case 10: {
          const d = view.getInt32(i * 8 + 4, le);
          out[i] = d === 0 ? 0 : view.getInt32(i * 8, le) / d;
          break;
        }
        case 11:
          out[i] = view.getFloat32(i * 4, le);
          break;
        case 12:
          out[i] = view.getFloat64(i * 8, le);
          break;
        case 16:
        case 18:
          out[i] = Number(view.getBigUint64(i * 8, le));
          break;
        case 17:
          out[i] = Number(view.getBigInt64(i * 8, le));
          break;
        default:
          out[i] = 0;
      }
    }
    return out;
  }

  /** One directory at `offset`; returns it and the next directory's offset (0 at the end). */
  async readIfd(offset: number, depth: number): Promise<{ ifd: Ifd; next: number }> {
    if (this.visited.has(offset)) throw this.corrupt(`the directory at ${offset} is referenced twice (a loop)`);
    this.visited.add(offset);
    const countSize = this.bigTiff ? 8 : 2;
    const entrySize = this.bigTiff ? 20 : 12;
    const offSize = this.bigTiff ? 8 : 4;
    const countBytes = await this.src.read(offset, countSize, `the directory at ${offset}`);
    const cv = new DataView(countBytes.buffer);
    const count = this.bigTiff ? Number(cv.getBigUint64(0, this.littleEndian)) : cv.getUint16(0, this.littleEndian);
    if (count === 0 || count > MAX_ENTRIES) throw this.corrupt(`the directory at ${offset} has ${count} entries`);
    this.directoryBytes += count * entrySize + offSize;
    if (this.directoryBytes > MAX_DIRECTORY_BYTES)
      throw this.corrupt(`its directories take more than ${MAX_DIRECTORY_BYTES / 2 ** 20} MiB`);
    const body = await this.src.read(offset + countSize, count * entrySize + offSize, `the directory at ${offset}`);
    const view = new DataView(body.buffer);
    const tags = new Map<number, TagValue>();
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      const tag = view.getUint16(at, this.littleEndian);
      const type = view.getUint16(at + 2, this.littleEndian);
      let n = this.bigTiff ? Number(view.getBigUint64(at + 4, this.littleEndian)) : view.getUint32(at + 4, this.littleEndian);
      const size = typeSize[type];
      if (!size) continue; // unknown field types are skipped, as TIFF 6.0 asks
      const cap = loadedTags.get(tag);
      if (cap === undefined || tags.has(tag)) continue; // tags no reader uses are never read; a repeated tag counts once
      let total = size * n;
      if (!Number.isSafeInteger(total) || total > this.src.size)
        throw this.corrupt(`tag ${tag} declares ${n} values, more than the file holds`);
      const inline = total <= offSize;
      if (total > cap && textTags.has(tag)) {
        n = Math.floor(cap / size);
        total = n * size;
      } else if (total > cap)
        throw this.corrupt(`tag ${tag} declares ${n} values, more than a TIFF of this kind needs (at most ${Math.floor(cap / size)})`);
      this.tagBytes += total;
      if (this.tagBytes > MAX_TAG_BYTES) throw this.corrupt(`its tag values take more than ${MAX_TAG_BYTES / 2 ** 20} MiB`);
      const valueAt = at + 4 + (this.bigTiff ? 8 : 4);
      const bytes = inline
        ? body.slice(valueAt, valueAt + total)
        : await this.src.read(this.offsetAt(view, valueAt), total, `tag ${tag}'s values`);
      tags.set(tag, this.decodeValues(bytes, type, n));
    }
    const next = this.offsetAt(view, count * entrySize);
    const ifd: Ifd = { offset, tags, subIfds: [] };
    const subs = tags.get(Tag.SubIFDs);
    if (Array.isArray(subs) && depth === 0) {
      if (subs.length > MAX_SUBIFDS) throw this.corrupt(`a directory lists ${subs.length} SubIFDs`);
      for (const s of subs) ifd.subIfds.push((await this.readIfd(s, depth + 1)).ifd);
    }
    return { ifd, next };
  }
}

/** Parse the header and every directory of the main chain (and their SubIFDs). */
export async function parseTiff(src: FileSource): Promise<TiffStructure> {
  const head = await src.read(0, Math.min(16, src.size), 'the header');
  if (head.length < 8) throw new DinoscopeError('CORRUPT', `${src.path}: too short for a TIFF header.`);
  const order = String.fromCharCode(head[0], head[1]);
  if (order !== 'II' && order !== 'MM') throw new DinoscopeError('UNSUPPORTED', `${src.path}: not a TIFF file.`);
  const littleEndian = order === 'II';
  const view = new DataView(head.buffer);
  const magic = view.getUint16(2, littleEndian);
  if (magic !== 42 && magic !== 43) throw new DinoscopeError('UNSUPPORTED', `${src.path}: not a TIFF file (version ${magic}).`);
  const bigTiff = magic === 43;
  if (bigTiff && (head.length < 16 || view.getUint16(4, littleEndian) !== 8))
    throw new DinoscopeError('CORRUPT', `${src.path}: malformed BigTIFF header.`);
  const parser = new Parser(src, littleEndian, bigTiff);
  let next = parser.offsetAt(view, bigTiff ? 8 : 4);
  const ifds: Ifd[] = [];
  if (next === 0) throw new DinoscopeError('CORRUPT', `${src.path}: the TIFF has no image directory.`);
  while (next !== 0) {
    if (ifds.length >= MAX_IFDS) throw new DinoscopeError('CORRUPT', `${src.path}: more than ${MAX_IFDS} image directories.`);
    const r = await parser.readIfd(next, 0);
    ifds.push(r.ifd);
    next = r.next;
  }
  return { littleEndian, bigTiff, ifds };
}

/** First numeric value of a tag, or `fallback`. */
export function tagNumber(ifd: Ifd, tag: number, fallback: number): number {
  const v = ifd.tags.get(tag);
  if (Array.isArray(v) && v.length > 0) return v[0];
  if (v instanceof Uint8Array && v.length > 0) return v[0];
  return fallback;
}

export function tagNumbers(ifd: Ifd, tag: number): number[] {
  const v = ifd.tags.get(tag);
  if (Array.isArray(v)) return v;
  if (v instanceof Uint8Array) return Array.from(v);
  return [];
}

export function tagString(ifd: Ifd, tag: number): string | null {
  const v = ifd.tags.get(tag);
  return typeof v === 'string' ? v : null;
}

export function tagBytes(ifd: Ifd, tag: number): Uint8Array | null {
  const v = ifd.tags.get(tag);
  return v instanceof Uint8Array ? v : null;
}

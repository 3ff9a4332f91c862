// A DICOM Part 10 header parser of our own, for whole-slide microscopy instances: it walks the file meta
// group and the dataset in order up to the Pixel Data element and stops there, so a file of gigabytes
// costs only its header. Only the elements a reader uses are read (each within a cap); every other value
// is skipped by its length, and sequences are descended only where they hold what we need (the shared and
// per-frame functional groups: pixel spacing, tile positions). Explicit and implicit VR little endian
// datasets; every length is checked against the file before it is trusted.
//
// Why not dcmjs: it parses a whole file from one ArrayBuffer (DicomMessage.readFile), pixel data included;
// a slide's level-0 instance is gigabytes, and frames must be read by offset on demand.
import { DinoscopeError } from '../../common/errors.js';
import type { FileSource } from '../tiff/source.js';
import { Cursor } from './cursor.js';

/** (group, element) as one number, e.g. tag(0x0028, 0x0010) for Rows. */
export const tag = (group: number, element: number): number => ((group << 16) | element) >>> 0;

export const T = {
  TransferSyntax: tag(0x0002, 0x0010),
  ImageType: tag(0x0008, 0x0008),
  SopClass: tag(0x0008, 0x0016),
  SopInstance: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  Manufacturer: tag(0x0008, 0x0070),
  ModelName: tag(0x0008, 0x1090),
  Software: tag(0x0018, 0x1020),
  StudyUid: tag(0x0020, 0x000d),
  SeriesUid: tag(0x0020, 0x000e),
  DimensionOrganization: tag(0x0020, 0x9311),
  Samples: tag(0x0028, 0x0002),
  Photometric: tag(0x0028, 0x0004),
  Planar: tag(0x0028, 0x0006),
  Frames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  PixelSpacing: tag(0x0028, 0x0030),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  PixelRepresentation: tag(0x0028, 0x0103),
  PixelMeasures: tag(0x0028, 0x9110),
  ContainerId: tag(0x0040, 0x0512),
  TotalColumns: tag(0x0048, 0x0006),
  TotalRows: tag(0x0048, 0x0007),
  PlanePositionSlide: tag(0x0048, 0x021a),
  ColumnPosition: tag(0x0048, 0x021e),
  RowPosition: tag(0x0048, 0x021f),
  OpticalPaths: tag(0x0048, 0x0302),
  FocalPlanes: tag(0x0048, 0x0303),
  SharedGroups: tag(0x5200, 0x9229),
  PerFrameGroups: tag(0x5200, 0x9230),
  ExtendedOffsets: tag(0x7fe0, 0x0001),
  ExtendedLengths: tag(0x7fe0, 0x0002),
  PixelData: tag(0x7fe0, 0x0010),
  Item: tag(0xfffe, 0xe000),
  ItemEnd: tag(0xfffe, 0xe00d),
  SequenceEnd: tag(0xfffe, 0xe0dd),
} as const;

export const UNDEFINED_LENGTH = 0xffffffff;
/** Frames one instance may have (a 316k² level of 256² tiles has 1.5 M). */
export const MAX_FRAMES = 1 << 22;
/** Elements (items and delimiters included) one header may have: the per-frame groups of MAX_FRAMES tiles. */
const MAX_ELEMENTS = 1 << 25;
const MAX_DEPTH = 16;
/** The longest text value read; longer ones are skipped as if absent. */
const MAX_TEXT = 64 * 1024;

/** Explicit-VR representations with a 4-byte length after 2 reserved bytes. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UR', 'UT', 'UN', 'SV', 'UV']);
/** Sequences whose items are parsed; any other sequence is skipped whole. */
const DESCEND = new Set<number>([T.SharedGroups, T.PerFrameGroups, T.PixelMeasures, T.PlanePositionSlide]);
/** Sequences by tag, for implicit-VR datasets (which do not say that an element is a sequence). */
const KNOWN_SEQUENCES = DESCEND;
/** Top-level elements whose values are read. */
const TOP_LEVEL = new Set<number>([
  T.TransferSyntax,
  T.ImageType,
  T.SopClass,
  T.SopInstance,
  T.Modality,
  T.Manufacturer,
  T.ModelName,
  T.Software,
  T.StudyUid,
  T.SeriesUid,
  T.DimensionOrganization,
  T.Samples,
  T.Photometric,
  T.Planar,
  T.Frames,
  T.Rows,
  T.Columns,
  T.BitsAllocated,
  T.BitsStored,
  T.PixelRepresentation,
  T.ContainerId,
  T.TotalColumns,
  T.TotalRows,
  T.OpticalPaths,
  T.FocalPlanes,
  T.ExtendedOffsets,
  T.ExtendedLengths,
]);

export const TransferSyntax = {
  ImplicitLittle: '1.2.840.10008.1.2',
  ExplicitLittle: '1.2.840.10008.1.2.1',
  DeflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  ExplicitBig: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
} as const;

export interface ElementHeader {
  tag: number;
  vr: string;
  length: number;
}

/** The parsed header of one instance: what the reader needs, and where its pixel data starts. */
export interface DicomHeader {
  transferSyntax: string;
  /** Top-level values by tag (raw bytes, each at most its cap). */
  values: Map<number, Uint8Array>;
  /** Pixel spacing in mm (row spacing, column spacing) from the shared functional groups, else the first frame's. */
  spacingMm: [number, number] | null;
  /** Per-frame (column, row) of the frame's top-left pixel in the total pixel matrix (1-based), or null. */
  positions: Int32Array | null;
  /** Where the Pixel Data value starts, and its length (UNDEFINED_LENGTH: encapsulated fragments). */
  pixelData: { offset: number; length: number } | null;
}

/** Latin-1 text of a value, trailing spaces and NULs removed. */
export function text(bytes: Uint8Array | undefined): string | null {
  if (!bytes) return null;
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  let start = 0;
  while (start < end && bytes[start] === 0x20) start++;
  return new TextDecoder('latin1').decode(bytes.subarray(start, end));
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function u16(bytes: Uint8Array | undefined): number | null {
  return bytes && bytes.length >= 2 ? view(bytes).getUint16(0, true) : null;
}

export function u32(bytes: Uint8Array | undefined): number | null {
  return bytes && bytes.length >= 4 ? view(bytes).getUint32(0, true) : null;
}

function i32(bytes: Uint8Array): number | null {
  return bytes.length >= 4 ? view(bytes).getInt32(0, true) : null;
}

/** Unsigned 64-bit values (OV) as numbers; null when one exceeds 2^53. */
export function u64s(bytes: Uint8Array | undefined): number[] | null {
  if (!bytes) return null;
  const v = view(bytes);
  const out: number[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const n = v.getBigUint64(i, true);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    out.push(Number(n));
  }
  return out;
}

/** Decimal/integer strings (DS, IS) of a multi-valued text, as numbers. */
export function numbers(bytes: Uint8Array | undefined): number[] {
  const t = text(bytes);
  return t === null || t === '' ? [] : t.split('\\').map((s) => Number(s.trim()));
}

export async function readElementHeader(c: Cursor, explicit: boolean): Promise<ElementHeader> {
  await c.prefetch(12, 'an element header'); // the longest header: tag, VR, 2 reserved bytes, 4-byte length
  const group = c.u16Now('an element header');
  const element = c.u16Now('an element header');
  const t = tag(group, element);
  if (group === 0xfffe || !explicit) return { tag: t, vr: '', length: c.u32Now('an element length') };
  const a = c.u16Now('an element VR');
  const vr = String.fromCharCode(a & 0xff, a >> 8);
  if (LONG_VRS.has(vr)) {
    c.skip(2, 'an element header');
    return { tag: t, vr, length: c.u32Now('an element length') };
  }
  if (!/^[A-Z]{2}$/.test(vr))
    throw new DinoscopeError(
      'CORRUPT',
      `${c.source.path}: element (${hex(group)},${hex(element)}) has no valid value representation at byte ${c.pos - 2}.`,
    );
  return { tag: t, vr, length: c.u16Now('an element length') };
}

const hex = (n: number): string => n.toString(16).padStart(4, '0').toUpperCase();
export const tagName = (t: number): string => `(${hex(t >>> 16)},${hex(t & 0xffff)})`;

class HeaderWalk {
  elements = 0;
  frameIndex = -1;
  readonly header: DicomHeader;
  constructor(
    private readonly c: Cursor,
    transferSyntax: string,
    private readonly until?: number,
  ) {
    this.header = { transferSyntax, values: new Map(), spacingMm: null, positions: null, pixelData: null };
  }

  /** The tag of the next element, without consuming it. */
  private async nextTag(): Promise<number> {
    const at = this.c.pos;
    if (at + 4 > this.c.size) return 0xffffffff;
    const group = await this.c.u16('an element header');
    const element = await this.c.u16('an element header');
    this.c.pos = at;
    return tag(group, element);
  }

  private corrupt(why: string): DinoscopeError {
    return new DinoscopeError('CORRUPT', `${this.c.source.path}: ${why}.`);
  }

  private count(): void {
    if (++this.elements > MAX_ELEMENTS) throw this.corrupt(`its header has more than ${MAX_ELEMENTS} elements`);
  }

  /** Elements until `end` (a byte position), or until an item delimiter when end is null; at the top level
   * until Pixel Data. Returns true when Pixel Data was reached. */
  async elementsUntil(end: number | null, stack: number[], explicit: boolean): Promise<boolean> {
    const c = this.c;
    while (end === null || c.pos < end) {
      if (stack.length === 0 && this.until !== undefined && (await this.nextTag()) > this.until) return false;
      if (end === null && stack.length === 0 && c.pos >= c.size) return false; // no pixel data
      this.count();
      const h = await readElementHeader(c, explicit);
      if (h.tag === T.ItemEnd) {
        if (end === null && stack.length > 0) return false;
        continue; // a stray delimiter in a defined-length item: tolerated
      }
      if (stack.length === 0 && h.tag === T.PixelData) {
        this.header.pixelData = { offset: c.pos, length: h.length };
        return true;
      }
      const undefinedLength = h.length === UNDEFINED_LENGTH;
      const sequence = h.vr === 'SQ' || undefinedLength || (!explicit && KNOWN_SEQUENCES.has(h.tag));
      if (sequence) {
        if (DESCEND.has(h.tag) || undefinedLength) await this.sequence(h, stack, explicit && h.vr !== 'UN');
        else c.skip(h.length, `sequence ${tagName(h.tag)}`);
        continue;
      }
      if (stack.length === 0 && TOP_LEVEL.has(h.tag)) {
        const cap = h.tag === T.ExtendedOffsets || h.tag === T.ExtendedLengths ? 8 * MAX_FRAMES : MAX_TEXT;
        if (h.length <= cap) this.header.values.set(h.tag, await c.bytes(h.length, `element ${tagName(h.tag)}`));
        else c.skip(h.length, `element ${tagName(h.tag)}`);
      } else if (
        stack.length > 0 &&
        (h.tag === T.PixelSpacing || h.tag === T.ColumnPosition || h.tag === T.RowPosition) &&
        h.length <= 256
      ) {
        this.nested(h.tag, await c.bytes(h.length, `element ${tagName(h.tag)}`), stack);
      } else c.skip(h.length, `element ${tagName(h.tag)}`);
    }
    if (end !== null && c.pos > end) throw this.corrupt(`an element runs past the end of the item or sequence holding it (byte ${end})`);
    return false;
  }

  private nested(t: number, bytes: Uint8Array, stack: number[]): void {
    const h = this.header;
    if (t === T.PixelSpacing) {
      const [row, col] = numbers(bytes);
      const perFrame = stack[0] === T.PerFrameGroups;
      if (!(row > 0 && col > 0) || (perFrame && (this.frameIndex !== 0 || h.spacingMm))) return;
      if (stack[0] === T.SharedGroups || perFrame) h.spacingMm = [row, col];
      return;
    }
    if (stack[0] !== T.PerFrameGroups || !h.positions || this.frameIndex < 0) return;
    const v = i32(bytes);
    if (v !== null) h.positions[2 * this.frameIndex + (t === T.ColumnPosition ? 0 : 1)] = v;
  }

  private async sequence(h: ElementHeader, stack: number[], explicit: boolean): Promise<void> {
    const c = this.c;
    const end = h.length === UNDEFINED_LENGTH ? null : c.pos + h.length;
    if (end !== null && end > c.size) throw this.corrupt(`sequence ${tagName(h.tag)} runs past the end of the file (truncated?)`);
    if (stack.length >= MAX_DEPTH) throw this.corrupt(`its sequences are nested more than ${MAX_DEPTH} deep`);
    const top = stack.length === 0 && h.tag === T.PerFrameGroups;
    if (top) {
      const frames = numbers(this.header.values.get(T.Frames))[0] ?? 1;
      if (Number.isSafeInteger(frames) && frames >= 1 && frames <= MAX_FRAMES) this.header.positions = new Int32Array(2 * frames);
    }
    stack.push(h.tag);
    for (let index = 0; end === null || c.pos < end; index++) {
      this.count();
      const item = await readElementHeader(c, true);
      if (item.tag === T.SequenceEnd) {
        if (end === null) break;
        continue;
      }
      if (item.tag !== T.Item) throw this.corrupt(`sequence ${tagName(h.tag)} holds ${tagName(item.tag)} where an item should be`);
      if (top) {
        this.frameIndex = index;
        if (this.header.positions && index >= this.header.positions.length / 2)
          throw this.corrupt(`it has more per-frame functional group items than its ${this.header.positions.length / 2} frames`);
      }
      const itemEnd = item.length === UNDEFINED_LENGTH ? null : c.pos + item.length;
      if (itemEnd !== null && end !== null && itemEnd > end)
        throw this.corrupt(`an item of sequence ${tagName(h.tag)} runs past the end of the sequence`);
      await this.elementsUntil(itemEnd, stack, explicit);
    }
    stack.pop();
    if (top) this.frameIndex = -1;
    if (end !== null && c.pos > end) throw this.corrupt(`sequence ${tagName(h.tag)} runs past its stated length`);
  }
}

/** True when the head holds "DICM" after the 128-byte preamble (a DICOM Part 10 file). */
export function isDicom(head: Uint8Array): boolean {
  return head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d;
}

/** The header of a DICOM Part 10 file up to its Pixel Data, or only up to the top-level tag `until`
 * (enough to tell its series without reading per-frame groups). */
export async function parseDicomHeader(source: FileSource, until?: number): Promise<DicomHeader> {
  const path = source.path;
  const head = await source.read(0, Math.min(132, source.size), 'the DICOM preamble');
  if (!isDicom(head)) throw new DinoscopeError('CORRUPT', `${path}: not a DICOM file (no "DICM" after the 128-byte preamble).`);
  // File meta information: explicit VR little endian, group 0002, whatever the dataset's transfer syntax.
  const c = new Cursor(source, 132);
  const meta = new Map<number, Uint8Array>();
  while (c.pos + 8 <= source.size) {
    const start = c.pos;
    const group = await c.u16('the file meta information');
    c.pos = start;
    if (group !== 0x0002) break;
    const h = await readElementHeader(c, true);
    if (h.length === UNDEFINED_LENGTH) throw new DinoscopeError('CORRUPT', `${path}: its file meta information has an undefined length.`);
    if (h.length <= MAX_TEXT) meta.set(h.tag, await c.bytes(h.length, 'the file meta information'));
    else c.skip(h.length, 'the file meta information');
  }
  const ts = text(meta.get(T.TransferSyntax));
  if (!ts) throw new DinoscopeError('CORRUPT', `${path}: its file meta information names no transfer syntax.`);
  if (ts === TransferSyntax.ExplicitBig || ts === TransferSyntax.DeflatedExplicitLittle)
    throw new DinoscopeError(
      'UNSUPPORTED',
      `${path}: DICOM transfer syntax ${ts} (${ts === TransferSyntax.ExplicitBig ? 'big endian' : 'deflated dataset'}) is not supported; convert it to explicit VR little endian (e.g. dcmconv +te).`,
    );
  const walk = new HeaderWalk(c, ts, until);
  await walk.elementsUntil(null, [], ts !== TransferSyntax.ImplicitLittle);
  return walk.header;
}

// Cluster label images as pyramidal OME-TIFF: one 8-bit channel (0 = background / no features,
// 1..k = cluster), tiled 256 × 256, deflate-compressed, reduced levels as SubIFDs of the full-resolution
// IFD (the OME-TIFF pyramid layout Bio-Formats/QuPath read). Written here rather than by libvips because
// libvips' pyramid averages 2 × 2 blocks, which would invent labels at cluster borders; each level here
// takes every other cell of the level above (nearest neighbour), so level l at (x, y) is level 0 at
// (2^l·x, 2^l·y) and labels stay labels.
// Resolution: XResolution/YResolution in pixels per centimetre with ResolutionUnit 3 (centimetre) at
// every level, and PhysicalSizeX/Y in the OME-XML; with no calibration, ResolutionUnit 1 (none).
import { deflateSync } from 'node:zlib';
import { DinoscopeError } from '../../common/errors.js';

/** One 8-bit plane (h, w). */
export interface LabelPlane {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The plane reduced 2× by nearest neighbour (the top-left cell of each 2 × 2 block). */
export function halve(p: LabelPlane): LabelPlane {
  const width = Math.ceil(p.width / 2);
  const height = Math.ceil(p.height / 2);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = p.data[2 * y * p.width + 2 * x];
  return { data, width, height };
}

/** A rational (numerator, denominator) close to v that fits two uint32s. */
export function rational(v: number): [number, number] {
  for (const d of [1000, 1]) if (Math.round(v * d) < 2 ** 32) return [Math.round(v * d), d];
  return [2 ** 32 - 1, 1];
}

/** Bytes per stored value: a RATIONAL is stored as two LONG values. */
const valueSize = (type: Tag['type']): number => (type === 2 ? 1 : type === 3 ? 2 : 4);

interface Tag {
  tag: number;
  type: 2 | 3 | 4 | 5; // ASCII, SHORT, LONG, RATIONAL
  /** RATIONALs as numerator, denominator pairs. */
  values: number[] | Uint8Array;
}

/** Bytes of the whole TIFF. `umPerPixel` is level 0's pixel size; level l's is 2^l times that. */
export function labelPyramidTiff(base: LabelPlane, opts: { umPerPixel: number | null; description: string; tile?: number }): Uint8Array {
  const tile = opts.tile ?? 256;
  if (tile % 16 !== 0 || tile <= 0) throw new DinoscopeError('BAD_INPUT', `label TIFF: tile ${tile} is not a positive multiple of 16.`);
  if (base.data.length !== base.width * base.height)
    throw new DinoscopeError('BAD_INPUT', `label TIFF: ${base.data.length} values for a ${base.width} × ${base.height} plane.`);
  const levels: LabelPlane[] = [base];
  while (Math.max(levels[levels.length - 1].width, levels[levels.length - 1].height) > tile) levels.push(halve(levels[levels.length - 1]));

  const parts: Uint8Array[] = [];
  let size = 8;
  /** Pad to a word boundary (TIFF offsets are even). */
  const align = (): void => {
    if (size % 2) {
      parts.push(new Uint8Array(1));
      size++;
    }
  };
  const append = (b: Uint8Array): number => {
    align();
    const at = size;
    parts.push(b);
    size += b.length;
    return at;
  };
  // Tiles of every level first, then the IFDs (each IFD knows its tile offsets).
  const tileInfo = levels.map((p) => {
    const offsets: number[] = [];
    const counts: number[] = [];
    const t = new Uint8Array(tile * tile);
    for (let ty = 0; ty * tile < p.height; ty++) {
      for (let tx = 0; tx * tile < p.width; tx++) {
        t.fill(0);
        for (let y = 0; y < tile && ty * tile + y < p.height; y++) {
          const row = (ty * tile + y) * p.width + tx * tile;
          t.set(p.data.subarray(row, row + Math.min(tile, p.width - tx * tile)), y * tile);
        }
        const z = deflateSync(t);
        offsets.push(append(new Uint8Array(z.buffer, z.byteOffset, z.byteLength)));
        counts.push(z.byteLength);
      }
    }
    return { offsets, counts };
  });
  const encodeIfd = (tags: Tag[], at: number): Uint8Array => {
    // IFD: count, 12-byte entries, next offset 0, then the out-of-line values.
    tags.sort((a, b) => a.tag - b.tag);
    const head = 2 + 12 * tags.length + 4;
    const buf = new Uint8Array(head + tags.reduce((s, t) => s + valueSize(t.type) * t.values.length + 2, 0));
    const dv = new DataView(buf.buffer);
    dv.setUint16(0, tags.length, true);
    let tail = head;
    tags.forEach((t, i) => {
      const e = 2 + 12 * i;
      const count = t.type === 5 ? t.values.length / 2 : t.values.length;
      dv.setUint16(e, t.tag, true);
      dv.setUint16(e + 2, t.type, true);
      dv.setUint32(e + 4, count, true);
      const bytes = valueSize(t.type) * t.values.length;
      const put = (o: number): void => {
        for (let j = 0; j < t.values.length; j++) {
          const v = t.values[j];
          if (t.type === 3) dv.setUint16(o + 2 * j, v, true);
          else if (t.type === 2) buf[o + j] = v;
          else dv.setUint32(o + 4 * j, v, true);
        }
      };
      if (bytes <= 4) put(e + 8);
      else {
        tail += tail % 2;
        dv.setUint32(e + 8, at + tail, true);
        put(tail);
        tail += bytes;
      }
    });
    return buf.subarray(0, tail);
  };

  const calibrated = opts.umPerPixel !== null;
  const ifdTags = (l: number, subIfds: number[] | null): Tag[] => {
    const p = levels[l];
    const perCm = calibrated ? rational(1e4 / ((opts.umPerPixel as number) * 2 ** l)) : [1, 1];
    const tags: Tag[] = [
      { tag: 254, type: 4, values: [l === 0 ? 0 : 1] }, // NewSubfileType: 1 = reduced resolution
      { tag: 256, type: 4, values: [p.width] },
      { tag: 257, type: 4, values: [p.height] },
      { tag: 258, type: 3, values: [8] },
      { tag: 259, type: 3, values: [8] }, // Adobe deflate
      { tag: 262, type: 3, values: [1] }, // min-is-black
      { tag: 277, type: 3, values: [1] },
      { tag: 282, type: 5, values: perCm },
      { tag: 283, type: 5, values: perCm },
      { tag: 284, type: 3, values: [1] },
      { tag: 296, type: 3, values: [calibrated ? 3 : 1] }, // centimetre, or no absolute unit
      { tag: 322, type: 4, values: [tile] },
      { tag: 323, type: 4, values: [tile] },
      { tag: 324, type: 4, values: tileInfo[l].offsets },
      { tag: 325, type: 4, values: tileInfo[l].counts },
      { tag: 339, type: 3, values: [1] },
    ];
    if (l === 0) tags.push({ tag: 270, type: 2, values: new TextEncoder().encode(opts.description + '\0') });
    if (subIfds) tags.push({ tag: 330, type: 4, values: subIfds });
    return tags;
  };
  // Reduced levels first (their offsets go into IFD 0's SubIFDs).
  const subAt: number[] = [];
  for (let l = 1; l < levels.length; l++) {
    align();
    const at = size;
    const b = encodeIfd(ifdTags(l, null), at);
    append(b);
    subAt.push(at);
  }
  align();
  const ifd0At = size;
  append(encodeIfd(ifdTags(0, subAt.length ? subAt : null), ifd0At));

  const out = new Uint8Array(size);
  out.set([0x49, 0x49, 42, 0], 0);
  new DataView(out.buffer).setUint32(4, ifd0At, true);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

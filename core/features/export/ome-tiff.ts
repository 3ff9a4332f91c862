// PCA and cluster maps as pyramidal OME-TIFF: sharp (libvips) writes a tiled pyramid as a chain of IFDs;
// we then rewrite the first IFD in the layout OME-TIFF readers (Bio-Formats, QuPath, our own
// core/data/readers) expect for pyramids: the reduced levels become SubIFDs (tag 330) of the
// full-resolution IFD, the main chain holds only that IFD, and its ImageDescription (tag 270) is the
// OME-XML with PhysicalSizeX/Y = µm per map pixel (stride · mpp / pixelsPerPatch).
// The rewrite appends the description, the SubIFD offsets and a new IFD 0 at the end of the file and points
// the header at it; the old IFD 0 stays as unused bytes. Classic little-endian TIFF only (what libvips
// writes here).
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { GridGeometry } from './feature-grid.js';
import { labelPyramidTiff, rational } from './label-tiff.js';
import { mapImage, type RgbMap } from './rgb-map.js';

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** OME-XML for one 8-bit plane of width × height (interleaved RGB, or 1 channel), µm per pixel when known. */
export function omeXml(name: string, width: number, height: number, umPerPixel: number | null, channels: 1 | 3 = 3): string {
  const phys =
    umPerPixel === null ? '' : ` PhysicalSizeX="${umPerPixel}" PhysicalSizeXUnit="µm" PhysicalSizeY="${umPerPixel}" PhysicalSizeYUnit="µm"`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="Dinoscope">' +
    `<Image ID="Image:0" Name="${xmlEscape(name)}">` +
    `<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="${width}" SizeY="${height}" SizeC="${channels}" SizeZ="1" SizeT="1" Interleaved="${channels > 1}" SignificantBits="8"${phys}>` +
    `<Channel ID="Channel:0:0" SamplesPerPixel="${channels}"><LightPath/></Channel>` +
    '<TiffData IFD="0" PlaneCount="1"/>' +
    '</Pixels></Image></OME>'
  );
}

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** The 4 raw value/offset bytes. */
  raw: Uint8Array;
}

/** IFD offsets of the main chain, and IFD 0's entries. */
function readChain(dv: DataView): { ifds: number[]; entries: Entry[] } {
  const ifds: number[] = [];
  let off = dv.getUint32(4, true);
  while (off !== 0) {
    if (ifds.includes(off) || off + 2 > dv.byteLength)
      throw new DinoscopeError('CORRUPT', 'OME-TIFF rewrite: the IFD chain of the written TIFF is broken.');
    ifds.push(off);
    const n = dv.getUint16(off, true);
    off = dv.getUint32(off + 2 + 12 * n, true);
  }
  const first = ifds[0];
  const n = dv.getUint16(first, true);
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e = first + 2 + 12 * i;
    entries.push({
      tag: dv.getUint16(e, true),
      type: dv.getUint16(e + 2, true),
      count: dv.getUint32(e + 4, true),
      raw: new Uint8Array(dv.buffer, dv.byteOffset + e + 8, 4).slice(),
    });
  }
  return { ifds, entries };
}

/**
 * Sets every IFD's XResolution/YResolution to its own pixel size — level 0 `umPerPixel`, a reduced level
 * that times level 0's width over its own — in pixels per centimetre with ResolutionUnit 3, or to
 * ResolutionUnit 1 (no absolute unit) when null. libvips copies level 0's values to every level, and
 * without a calibration it states 1 pixel per mm. In place: the rationals are overwritten where they are.
 */
export function setPyramidResolution(tiff: Uint8Array, umPerPixel: number | null): void {
  const dv = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (dv.getUint16(0, false) !== 0x4949 || dv.getUint16(2, true) !== 42)
    throw new DinoscopeError('UNSUPPORTED', 'OME-TIFF rewrite: expected a classic little-endian TIFF.');
  const { ifds } = readChain(dv);
  const entriesOf = (ifd: number): Map<number, number> => {
    const m = new Map<number, number>(); // tag → entry offset
    for (let i = 0; i < dv.getUint16(ifd, true); i++) m.set(dv.getUint16(ifd + 2 + 12 * i, true), ifd + 2 + 12 * i);
    return m;
  };
  const widthOf = (e: number): number => (dv.getUint16(e + 2, true) === 3 ? dv.getUint16(e + 8, true) : dv.getUint32(e + 8, true));
  const width0 = widthOf(entriesOf(ifds[0]).get(256) as number);
  for (const ifd of ifds) {
    const e = entriesOf(ifd);
    const w = e.get(256);
    if (w === undefined) continue;
    const [num, den] = umPerPixel === null ? [1, 1] : rational(1e4 / ((umPerPixel * width0) / widthOf(w)));
    for (const tag of [282, 283]) {
      const at = e.get(tag);
      if (at === undefined || dv.getUint16(at + 2, true) !== 5) continue;
      const off = dv.getUint32(at + 8, true);
      dv.setUint32(off, num, true);
      dv.setUint32(off + 4, den, true);
    }
    const unit = e.get(296);
    if (unit !== undefined) dv.setUint16(unit + 8, umPerPixel === null ? 1 : 3, true);
  }
}

/** The TIFF bytes rewritten so IFDs 1… are SubIFDs of IFD 0, with `description` as IFD 0's ImageDescription. */
export function toSubIfdPyramid(tiff: Uint8Array, description: string): Uint8Array {
  const dv = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (dv.getUint16(0, false) !== 0x4949 || dv.getUint16(2, true) !== 42)
    throw new DinoscopeError('UNSUPPORTED', 'OME-TIFF rewrite: expected a classic little-endian TIFF.');
  const { ifds, entries } = readChain(dv);
  const subs = ifds.slice(1);
  const desc = new TextEncoder().encode(description + '\0');
  const align = (n: number): number => n + (n % 2);
  let at = align(tiff.length);
  const descAt = at;
  at = align(at + desc.length);
  const subsAt = at;
  at += 4 * subs.length;
  const ifdAt = align(at);
  const kept = entries.filter((e) => e.tag !== 270 && e.tag !== 330);
  const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
  kept.push({ tag: 270, type: 2, count: desc.length, raw: u32(descAt) });
  if (subs.length > 0) kept.push({ tag: 330, type: 4, count: subs.length, raw: subs.length === 1 ? u32(subs[0]) : u32(subsAt) });
  kept.sort((a, b) => a.tag - b.tag);
  const total = ifdAt + 2 + 12 * kept.length + 4;
  const out = new Uint8Array(total);
  out.set(tiff);
  const o = new DataView(out.buffer);
  out.set(desc, descAt);
  subs.forEach((s, i) => o.setUint32(subsAt + 4 * i, s, true));
  o.setUint16(ifdAt, kept.length, true);
  kept.forEach((e, i) => {
    const p = ifdAt + 2 + 12 * i;
    o.setUint16(p, e.tag, true);
    o.setUint16(p + 2, e.type, true);
    o.setUint32(p + 4, e.count, true);
    out.set(e.raw, p + 8);
  });
  o.setUint32(ifdAt + 2 + 12 * kept.length, 0, true); // the main chain ends after IFD 0
  // Each SubIFD stands alone: clear its next-IFD link.
  for (const s of subs) o.setUint32(s + 2 + 12 * o.getUint16(s, true), 0, true);
  o.setUint32(4, ifdAt, true);
  return out;
}

export interface OmeTiffMapOptions {
  pixelsPerPatch?: number;
  name?: string;
  /** Tile edge in pixels (multiple of 16, default 256). */
  tile?: number;
}

/** Write an RGB map as a tiled, deflate-compressed, pyramidal OME-TIFF aligned to the source image's µm grid. */
export async function writeMapOmeTiff(path: string, map: RgbMap, geometry: GridGeometry, opts: OmeTiffMapOptions = {}): Promise<void> {
  const ppp = opts.pixelsPerPatch ?? 1;
  const tile = opts.tile ?? 256;
  const um = geometry.mpp === null ? null : (geometry.stride * geometry.mpp) / ppp;
  // TIFF resolution tags in pixels per centimetre (sharp takes pixels per mm); libvips' default would be 1 mm/px.
  const res = um === null ? {} : { xres: 1000 / um, yres: 1000 / um, resolutionUnit: 'cm' as const };
  const tiff = await mapImage(map, ppp)
    .tiff({ tile: true, tileWidth: tile, tileHeight: tile, pyramid: true, compression: 'deflate', predictor: 'horizontal', ...res })
    .toBuffer();
  const xml = omeXml(opts.name ?? 'map', map.width * ppp, map.height * ppp, um);
  const bytes = new Uint8Array(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  setPyramidResolution(bytes, um);
  await writeFileAtomic(path, toSubIfdPyramid(bytes, xml));
}

/** (h, w) 8-bit labels enlarged to `ppp` × `ppp` pixels per cell (nearest neighbour). */
export function enlargeLabels(labels: Uint8Array, width: number, height: number, ppp: number): Uint8Array {
  if (!Number.isInteger(ppp) || ppp < 1) throw new DinoscopeError('BAD_INPUT', `map: pixelsPerPatch ${ppp} is not a positive integer.`);
  if (ppp === 1) return labels;
  const W = width * ppp;
  const out = new Uint8Array(W * height * ppp);
  for (let y = 0; y < height * ppp; y++) {
    const src = Math.floor(y / ppp) * width;
    for (let x = 0; x < W; x++) out[y * W + x] = labels[src + Math.floor(x / ppp)];
  }
  return out;
}

/** Write a label map ((h, w) uint8, 0 = background) as a single-channel pyramidal OME-TIFF (label-tiff.ts). */
export async function writeLabelOmeTiff(
  path: string,
  labels: Uint8Array,
  width: number,
  height: number,
  geometry: GridGeometry,
  opts: OmeTiffMapOptions = {},
): Promise<void> {
  const ppp = opts.pixelsPerPatch ?? 1;
  const um = geometry.mpp === null ? null : (geometry.stride * geometry.mpp) / ppp;
  const xml = omeXml(opts.name ?? 'labels', width * ppp, height * ppp, um, 1);
  await writeFileAtomic(
    path,
    labelPyramidTiff(
      { data: enlargeLabels(labels, width, height, ppp), width: width * ppp, height: height * ppp },
      { umPerPixel: um, description: xml, tile: opts.tile },
    ),
  );
}

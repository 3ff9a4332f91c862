// Multi-channel OME-TIFF (fluorescence): each channel a plane of its own, one sample per pixel (8- or
// 16-bit unsigned, or 32-bit float), the planes in the main IFD chain in the order OME-XML's
// DimensionOrder states (the first Z and T are read), reduced resolutions as SubIFDs of each plane (the
// current OME layout; bioformats, tifffile and QuPath write it). Channel Name, Color and
// EmissionWavelength become the image's ChannelInfo. Where the Pixels element has TiffData elements, they
// say which IFD holds which plane (IFD, PlaneCount, FirstC/FirstZ/FirstT: PlaneCount IFDs from IFD on hold
// the planes from (FirstC, FirstZ, FirstT) on, in DimensionOrder); without TiffData the planes are in the
// chain in DimensionOrder. Planes kept in other files (a multi-file OME-TIFF set) are refused by name.
import type { ChannelInfo, ChannelSampleType, ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { ChannelReader, type ChannelTileSource, planLevels } from '../channels/channel-reader.js';
import { STATS_SIDE } from '../channels/display.js';
import { channelHistograms } from '../channels/histogram.js';
import { decodeSampleTile } from '../tiff/decode-samples.js';
import { isTiled } from '../tiff/level.js';
import { type Ifd, type TiffStructure, tagNumber } from '../tiff/parse.js';
import { sampleLayout, type SampleLayout } from '../tiff/sample-layout.js';
import type { FileSource } from '../tiff/source.js';
import { Tag } from '../tiff/tags.js';
import { xmlAttributes, xmlElements } from './ome-tiff.js';

/** The most channels a multi-channel image may have. */
export const MAX_CHANNELS = 64;

export const nominalRange: Record<ChannelSampleType, [number, number]> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  float32: [0, 1],
};

/** Size of the C, Z and T dimensions and their order, from OME-XML's Pixels. */
export interface OmePlanes {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  order: string;
}

export function omePlanes(xml: string): OmePlanes {
  const p = xmlAttributes(xml, 'Pixels') ?? {};
  const n = (v: string | undefined): number => {
    const x = Number.parseInt(v ?? '1', 10);
    return Number.isSafeInteger(x) && x > 0 ? x : 1;
  };
  const order = /^XY[CZT]{3}$/.test(p.DimensionOrder ?? '') ? (p.DimensionOrder as string) : 'XYCZT';
  return { sizeC: n(p.SizeC), sizeZ: n(p.SizeZ), sizeT: n(p.SizeT), order };
}

/** One TiffData element: `count` IFDs from `ifd` on hold the planes from `first` on (DimensionOrder index). */
export interface TiffDataRun {
  ifd: number;
  first: number;
  count: number;
}

/** The most TiffData elements read (bioformats writes one per plane: 64 channels × 4096 Z·T planes). */
const MAX_TIFF_DATA = 1 << 18;

/** A plane's index in DimensionOrder from its C, Z and T. */
function orderIndex(planes: OmePlanes, at: Record<'C' | 'Z' | 'T', number>): number {
  const size: Record<string, number> = { C: planes.sizeC, Z: planes.sizeZ, T: planes.sizeT };
  let index = 0;
  let stride = 1;
  for (const dim of planes.order.slice(2) as Iterable<'C' | 'Z' | 'T'>) {
    index += at[dim] * stride;
    stride *= size[dim];
  }
  return index;
}

/**
 * The TiffData runs of the first Pixels element; [] when it has none. BAD_INPUT-free: a value that is not
 * a non-negative integer is CORRUPT naming the attribute. Defaults as the OME schema has them: IFD 0,
 * First* 0, PlaneCount 1 when IFD is given, else every plane of the Pixels.
 */
export function tiffDataRuns(path: string, xml: string, planes: OmePlanes): TiffDataRun[] {
  const start = xml.search(/<([A-Za-z_][\w.-]*:)?Pixels[\s>/]/);
  if (start < 0) return [];
  const end = xml.search(/<\/([A-Za-z_][\w.-]*:)?Pixels>/);
  const pixels = xml.slice(start, end > start ? end : undefined);
  const files = new Set(
    xmlElements(pixels, 'UUID', MAX_TIFF_DATA)
      .map((u) => u.FileName)
      .filter((f) => f !== undefined),
  );
  if (files.size > 1)
    throw new DinoscopeError(
      'UNSUPPORTED',
      `${path}: its planes are kept in ${files.size} files (${[...files].slice(0, 3).join(', ')}${files.size > 3 ? ', …' : ''}), a multi-file OME-TIFF set; Dinoscope reads single-file OME-TIFF only.`,
    );
  const total = planes.sizeC * planes.sizeZ * planes.sizeT;
  return xmlElements(pixels, 'TiffData', MAX_TIFF_DATA).map((t) => {
    const int = (name: string, fallback: number): number => {
      const v = t[name];
      if (v === undefined) return fallback;
      const x = /^\s*\d+\s*$/.test(v) ? Number.parseInt(v, 10) : NaN;
      if (!Number.isSafeInteger(x))
        throw new DinoscopeError('CORRUPT', `${path}: its OME-XML has a TiffData ${name} of "${v}", not a plane or IFD number.`);
      return x;
    };
    const first = orderIndex(planes, { C: int('FirstC', 0), Z: int('FirstZ', 0), T: int('FirstT', 0) });
    return { ifd: int('IFD', 0), first, count: int('PlaneCount', t.IFD !== undefined ? 1 : total) };
  });
}

/** Index in the IFD chain of channel c's plane at Z = 0, T = 0: by the TiffData runs when there are any;
 * null when they map no IFD to it. */
export function planeIfd(planes: OmePlanes, runs: readonly TiffDataRun[], c: number): number | null {
  if (runs.length === 0) return planeIndex(planes, c);
  const plane = orderIndex(planes, { C: c, Z: 0, T: 0 });
  const run = runs.find((r) => plane >= r.first && plane - r.first < r.count);
  return run ? run.ifd + (plane - run.first) : null;
}

/** Index in the IFD chain of channel c's plane at Z = 0, T = 0. */
export function planeIndex(planes: OmePlanes, c: number): number {
  const size: Record<string, number> = { C: planes.sizeC, Z: planes.sizeZ, T: planes.sizeT };
  let stride = 1;
  for (const dim of planes.order.slice(2)) {
    if (dim === 'C') return c * stride;
    stride *= size[dim];
  }
  return c;
}

/** OME Color: a signed 32-bit RGBA integer; -1 (opaque white, the schema's default) counts as unstated. */
export function omeColor(value: string | undefined): [number, number, number] | null {
  if (value === undefined) return null;
  const v = Number.parseInt(value, 10);
  if (!Number.isSafeInteger(v) || v === -1) return null;
  const u = v >>> 0;
  return [(u >>> 24) & 255, (u >>> 16) & 255, (u >>> 8) & 255];
}

const nmPer: Record<string, number> = { nm: 1, µm: 1000, μm: 1000, um: 1000, Å: 0.1, pm: 0.001 };

/** The channels OME-XML describes (Name, Color, EmissionWavelength), `count` of them. */
export function omeChannelInfo(xml: string, count: number, sampleType: ChannelSampleType): ChannelInfo[] {
  const elements = xmlElements(xml, 'Channel', count);
  return Array.from({ length: count }, (_, i) => {
    const a = elements[i] ?? {};
    const wl = Number.parseFloat(a.EmissionWavelength ?? '');
    const per = nmPer[a.EmissionWavelengthUnit ?? 'nm'];
    const name = (a.Name ?? '').trim().slice(0, 128);
    return {
      name: name || `Channel ${i + 1}`,
      color: omeColor(a.Color),
      emissionNm: Number.isFinite(wl) && wl > 0 && per !== undefined ? wl * per : null,
      sampleType,
      range: [...nominalRange[sampleType]] as [number, number],
    };
  });
}

/** True when an OME-TIFF is to be read as channels: several channels, or samples that are not 8-bit. */
export function isMultiChannelOme(xml: string, base: Ifd): boolean {
  if (tagNumber(base, Tag.SamplesPerPixel, 1) !== 1) return false;
  const bits = tagNumber(base, Tag.BitsPerSample, 8);
  return omePlanes(xml).sizeC > 1 || bits !== 8 || tagNumber(base, Tag.SampleFormat, 1) !== 1;
}

class OmeChannelSource implements ChannelTileSource {
  constructor(
    private readonly path: string,
    private readonly source: FileSource,
    /** layouts[level][channel] */
    private readonly layouts: SampleLayout[][],
  ) {}

  get levels(): SampleLayout[] {
    return this.layouts.map((l) => l[0]);
  }

  get channels(): number {
    return this.layouts[0].length;
  }

  async readTile(level: number, tx: number, ty: number): Promise<Float32Array | null> {
    const planes = this.layouts[level];
    const { tileWidth: tw, tileHeight: th, tilesAcross } = planes[0];
    const i = ty * tilesAcross + tx;
    const out = new Float32Array(planes.length * tw * th);
    let any = false;
    await Promise.all(
      planes.map(async (layout, c) => {
        const count = layout.byteCounts[i];
        if (!count) return; // sparse: dark
        any = true;
        const what = `tile ${tx},${ty} of channel ${c + 1} at level ${level}`;
        const bytes = await this.source.read(layout.offsets[i], count, what);
        try {
          out.set(await decodeSampleTile(bytes, layout), c * tw * th);
        } catch (err) {
          const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
          throw new DinoscopeError('CORRUPT', `${this.path}: ${what} cannot be decoded (${msg}).`);
        }
      }),
    );
    return any ? out : null;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

const size = (ifd: Ifd): [number, number] => [tagNumber(ifd, Tag.ImageWidth, 0), tagNumber(ifd, Tag.ImageLength, 0)];

/** Open the channels of a parsed multi-channel OME-TIFF. `meta` holds what tiff.ts found (format, mpp,
 * vendor, warnings); levels, tiles and channels are filled in here. */
export async function openOmeChannels(
  path: string,
  source: FileSource,
  structure: TiffStructure,
  xml: string,
  meta: Omit<ImageMetadata, 'levels' | 'tileWidth' | 'tileHeight' | 'width' | 'height'>,
): Promise<ChannelReader> {
  const planes = omePlanes(xml);
  if (planes.sizeC > MAX_CHANNELS)
    throw new DinoscopeError('TOO_LARGE', `${path}: has ${planes.sizeC} channels, more than the ${MAX_CHANNELS} Dinoscope reads.`);
  const runs = tiffDataRuns(path, xml, planes);
  const at = Array.from({ length: planes.sizeC }, (_, c) => planeIfd(planes, runs, c));
  const unmapped = at.indexOf(null);
  // Fewer planes than channels says truncated whatever the TiffData; else an unmapped channel is the XML's fault.
  if (unmapped >= 0 && structure.ifds.length >= planes.sizeC)
    throw new DinoscopeError(
      'CORRUPT',
      `${path}: its OME-XML's TiffData elements map no image plane to channel ${unmapped + 1} (Z 0, T 0).`,
    );
  const found = at.map((i): Ifd | undefined => (i === null ? undefined : structure.ifds[i]));
  if (found.some((ifd) => ifd === undefined))
    throw new DinoscopeError(
      'CORRUPT',
      `${path}: its OME-XML states ${planes.sizeC} channels (${planes.order}, ${planes.sizeZ} Z, ${planes.sizeT} T)${runs.length ? ' in IFDs its TiffData names' : ''} but the file holds only ${structure.ifds.length} image planes (truncated?).`,
    );
  const ifds = found as Ifd[];
  // Levels of each channel: its plane and the plane's tiled SubIFDs, largest first.
  const perChannel = ifds.map((ifd) => [ifd, ...ifd.subIfds.filter(isTiled).sort((a, b) => size(b)[0] - size(a)[0])]);
  const levelCount = Math.min(...perChannel.map((l) => l.length));
  const layouts: SampleLayout[][] = [];
  for (let k = 0; k < levelCount; k++) {
    const row = perChannel.map((l) => sampleLayout(path, l[k], source.size, structure.littleEndian));
    const first = row[0];
    for (const [c, l] of row.entries()) {
      if (l.width !== first.width || l.height !== first.height || l.tileWidth !== first.tileWidth || l.tileHeight !== first.tileHeight)
        throw new DinoscopeError(
          'CORRUPT',
          `${path}: channel ${c + 1} at level ${k} is ${l.width} × ${l.height}, channel 1 ${first.width} × ${first.height}.`,
        );
      if (l.sampleType !== first.sampleType)
        throw new DinoscopeError('UNSUPPORTED', `${path}: its channels mix ${first.sampleType} and ${l.sampleType} samples.`);
    }
    if (k > 0 && first.width >= layouts[k - 1][0].width) break; // not a reduction: the levels end here
    layouts.push(row);
  }
  const sampleType = layouts[0][0].sampleType;
  const plan = ChannelReader.planOf(layouts.map((l) => l[0]));
  const full: ImageMetadata = {
    ...meta,
    width: layouts[0][0].width,
    height: layouts[0][0].height,
    levels: planLevels(plan),
    tileWidth: layouts[0][0].tileWidth,
    tileHeight: layouts[0][0].tileHeight,
    channels: omeChannelInfo(xml, planes.sizeC, sampleType),
  };
  const reader = new ChannelReader(path, full, new OmeChannelSource(path, source, layouts));
  await observeFloatRanges(reader);
  return reader;
}

/** Float channels have no nominal range: their first guess is the observed one at a low level. */
export async function observeFloatRanges(reader: ChannelReader): Promise<void> {
  const channels = reader.meta.channels ?? [];
  if (!channels.some((c) => c.sampleType === 'float32' && !c.window)) return;
  const k = reader.plan.length - 1;
  const l = reader.plan[k];
  const img = await reader.readChannels(k, 0, 0, Math.min(l.width, STATS_SIDE), Math.min(l.height, STATS_SIDE));
  channelHistograms(img, 1).forEach((h, c) => {
    if (channels[c].sampleType === 'float32') channels[c].range = [h.min, h.max > h.min ? h.max : h.min + 1];
  });
}

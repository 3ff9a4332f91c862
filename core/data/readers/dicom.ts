// DICOM Whole Slide Microscopy (VL Whole Slide Microscopy Image Storage): a series of tiled multi-frame
// instances in one folder, opened from any of its files as one image. VOLUME instances are the levels
// (largest first); LABEL, OVERVIEW and THUMBNAIL instances are associated images (readAssociated, named
// label, overview, thumbnail). Frames are located at open (dicom/frames.ts) and read one at a time on
// demand through a shared LRU tile cache; a tile no frame covers (TILED_SPARSE) reads white. µm per pixel
// from the shared functional groups' Pixel Measures (PixelSpacing in mm). Format id "dicom".
// Levels follow tiff/level-plan.ts as for tiled TIFF: where stored levels are more than 4× apart, and below
// the smallest one until it fits SMALLEST_SIDE, halvings are synthesized 2 × 2 tiles at a time (a DICOM
// slide gets no pyramid cache: libvips cannot read it, and a pyramid is what its levels are for).
import type { ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { decodeFrame } from '../dicom/decode.js';
import { type FrameSpans, locateFrames, readFrame } from '../dicom/frames.js';
import { type DicomInstance, describeInstance } from '../dicom/instance.js';
import { isDicom, parseDicomHeader } from '../dicom/parse.js';
import { seriesSiblings } from '../dicom/series.js';
import type { ImageReader, OpenOptions, ReaderFormat, RgbImage } from '../reader.js';
import { downsampleOf } from '../resolution.js';
import { checkRegion, copyRect, eachTilePart, MAX_REGION_PIXELS, whiteImage } from '../rgb.js';
import { completeJpeg, jpegFrameSize } from '../tiff/jpeg.js';
import { levelPlan, type PlannedLevel, VIRTUAL_TILE } from '../tiff/level-plan.js';
import { TileCache } from '../tiff/tile-cache.js';
import { FileSource } from '../tiff/source.js';
import { boundedVendor, plausibleMpp } from '../vendor.js';
import { DEFAULT_MAX_PIXELS } from './sharp-image.js';
import { Gate, halve, SYNTHESIS_PER_LEVEL } from './tiled-tiff.js';

/** Levels and associated images one series may have. */
const MAX_LEVELS = 64;
const MAX_ASSOCIATED = 16;
/** Halvings are synthesized below the smallest stored level until its longer side is at most this. */
const SMALLEST_SIDE = 1024;
const ASSOCIATED_NAMES: Record<string, string> = { LABEL: 'label', OVERVIEW: 'overview', THUMBNAIL: 'thumbnail' };

interface OpenInstance {
  inst: DicomInstance;
  source: FileSource;
  spans: FrameSpans;
}

async function openInstance(path: string, maxPixels: number): Promise<OpenInstance> {
  const source = await FileSource.open(path);
  try {
    const inst = describeInstance(path, await parseDicomHeader(source), maxPixels);
    return { inst, source, spans: await locateFrames(source, inst) };
  } catch (err) {
    await source.close().catch(() => undefined);
    throw err;
  }
}

type Geometry = Pick<PlannedLevel, 'width' | 'height' | 'tileWidth' | 'tileHeight'>;

export class DicomReader implements ImageReader {
  readonly cache = new TileCache();
  private readonly gates = new Map<number, Gate>();

  constructor(
    readonly path: string,
    readonly meta: ImageMetadata,
    private readonly plan: readonly PlannedLevel[],
    private readonly stored: readonly OpenInstance[],
    private readonly associated: ReadonlyMap<string, OpenInstance>,
  ) {}

  /** The decoded tile (tx, ty) of an instance; null where no frame covers it (reads white). */
  private frameTile(key: string, o: OpenInstance, tx: number, ty: number): Promise<RgbImage | null> {
    return this.cache.get(`${key}/${tx}/${ty}`, async () => {
      const frame = o.inst.tileFrames[ty * o.inst.tilesAcross + tx];
      if (frame < 0) return null;
      const what = `${o.inst.path}: frame ${frame + 1} (tile ${tx},${ty})`;
      const bytes = await readFrame(o.source, o.spans, frame, what);
      return decodeFrame(bytes, o.inst, what);
    });
  }

  /** A tile of a synthesized level: the 2 × 2 average of its footprint on the level before it. */
  private synthesizedTile(level: number, tx: number, ty: number): Promise<RgbImage | null> {
    let gate = this.gates.get(level);
    if (!gate) this.gates.set(level, (gate = new Gate(SYNTHESIS_PER_LEVEL)));
    const g = gate;
    return this.cache.get(`${level}/${tx}/${ty}`, () =>
      g.run(async () => {
        const { tileWidth: tw, tileHeight: th } = this.plan[level];
        const src = await this.readRegion(level - 1, 2 * tx * tw, 2 * ty * th, 2 * tw, 2 * th);
        const out = whiteImage(tw, th);
        halve(src.data, 2 * tw, 0, 0, tw, th, out.data, tw, 0, 0);
        return out;
      }),
    );
  }

  private async region(
    g: Geometry,
    tile: (tx: number, ty: number) => Promise<RgbImage | null>,
    x: number,
    y: number,
    width: number,
    height: number,
  ): Promise<RgbImage> {
    const out = whiteImage(width, height);
    const { tileWidth: tw, tileHeight: th } = g;
    await eachTilePart(g, x, y, width, height, tile, (t, p) =>
      copyRect(t, p.x0 - p.tx * tw, p.y0 - p.ty * th, out, p.x0 - x, p.y0 - y, p.x1 - p.x0, p.y1 - p.y0),
    );
    return out;
  }

  readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    checkRegion(this.path, this.plan.length, level, x, y, width, height);
    const planned = this.plan[level];
    if (planned.native === null) return this.region(planned, (tx, ty) => this.synthesizedTile(level, tx, ty), x, y, width, height);
    const o = this.stored[planned.native];
    return this.region(o.inst, (tx, ty) => this.frameTile(String(level), o, tx, ty), x, y, width, height);
  }

  /** The stored JPEG frame of tile (tx, ty) as a standalone stream, for servers that pass tiles through
   * without decoding (core/tiles/render.ts); null when the level's frames are not 3-sample JPEG, the tile
   * has no frame (sparse) or the frame is not exactly the tile size. */
  async jpegTile(level: number, tx: number, ty: number): Promise<{ bytes: Uint8Array; tileWidth: number; tileHeight: number } | null> {
    const native = this.plan[level]?.native;
    const o = native === null || native === undefined ? undefined : this.stored[native];
    if (!o || o.inst.codec !== 'jpeg' || o.inst.samples !== 3) return null;
    const { inst } = o;
    if (!(tx >= 0 && ty >= 0 && tx < inst.tilesAcross && ty < inst.tilesDown)) return null;
    const frame = inst.tileFrames[ty * inst.tilesAcross + tx];
    if (frame < 0) return null;
    const bytes = await readFrame(o.source, o.spans, frame, `${inst.path}: frame ${frame + 1} (tile ${tx},${ty})`);
    if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    const stream = inst.photometric === 'RGB' ? completeJpeg(bytes, null, true) : bytes;
    const size = jpegFrameSize(stream);
    if (!size || size.width !== inst.tileWidth || size.height !== inst.tileHeight) return null;
    return { bytes: stream, tileWidth: inst.tileWidth, tileHeight: inst.tileHeight };
  }

  /** An associated image (label, overview, thumbnail) by its name in meta.vendor.associatedImages. */
  async readAssociated(name: string): Promise<RgbImage> {
    const o = this.associated.get(name);
    if (!o)
      throw new DinoscopeError(
        'NOT_FOUND',
        `${this.path}: no associated image "${name}" (it has ${[...this.associated.keys()].join(', ') || 'none'}).`,
      );
    const { width, height } = o.inst;
    if (width * height > MAX_REGION_PIXELS)
      throw new DinoscopeError(
        'TOO_LARGE',
        `${this.path}: its ${name} image is ${width} × ${height} pixels, more than the ${MAX_REGION_PIXELS} read at once.`,
      );
    return this.region(o.inst, (tx, ty) => this.frameTile(name, o, tx, ty), 0, 0, width, height);
  }

  async close(): Promise<void> {
    this.cache.clear();
    const all = [...this.stored, ...this.associated.values()];
    await Promise.all(all.map((o) => o.source.close().catch(() => undefined)));
  }
}

/** Open the whole-slide series `path` belongs to: its folder's instances of the same series. */
export async function openDicomSeries(path: string, options: OpenOptions = {}): Promise<DicomReader> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const opened: OpenInstance[] = [];
  try {
    const chosen = await openInstance(path, maxPixels);
    opened.push(chosen);
    const warnings: string[] = [];
    for (const sibling of await seriesSiblings(path, chosen.inst.seriesUid)) {
      if (opened.length >= MAX_LEVELS + MAX_ASSOCIATED) break;
      try {
        opened.push(await openInstance(sibling, maxPixels));
      } catch (err) {
        // One damaged instance does not hide the rest of the slide; it is named in the warnings.
        if (!(err instanceof DinoscopeError)) throw err;
        warnings.push(`An instance of this series was left out: ${err.message}`);
      }
    }
    const volumes = opened.filter((o) => o.inst.flavour === 'VOLUME').sort((a, b) => b.inst.width - a.inst.width);
    // One instance per size: other focal planes and optical paths of a level are left out.
    const levels = volumes.filter((o, i) => i === 0 || o.inst.width < volumes[i - 1].inst.width).slice(0, MAX_LEVELS);
    if (levels.length === 0)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${path}: this DICOM series has no VOLUME instance (only ${opened.map((o) => o.inst.flavour.toLowerCase()).join(', ')} images); open the folder holding the slide's pyramid levels.`,
      );
    const associated = new Map<string, OpenInstance>();
    for (const o of opened) {
      const name = ASSOCIATED_NAMES[o.inst.flavour];
      if (name && !associated.has(name) && associated.size < MAX_ASSOCIATED) associated.set(name, o);
    }
    const used = new Set<OpenInstance>([...levels, ...associated.values()]);
    for (const o of opened) if (!used.has(o)) await o.source.close().catch(() => undefined);
    const base = levels[0].inst;
    const vendor: Record<string, string> = { ...base.vendor, 'dicom.instances': String(opened.length) };
    const plan = levelPlan(
      levels.map((o) => ({ width: o.inst.width, height: o.inst.height, tileWidth: o.inst.tileWidth, tileHeight: o.inst.tileHeight })),
    );
    for (let last = plan[plan.length - 1]; Math.max(last.width, last.height) > SMALLEST_SIDE; last = plan[plan.length - 1]) {
      const [width, height] = [Math.ceil(last.width / 2), Math.ceil(last.height / 2)];
      plan.push({ width, height, tileWidth: VIRTUAL_TILE, tileHeight: VIRTUAL_TILE, native: null });
    }
    if (plan.length > levels.length) vendor['dinoscope.synthesizedLevels'] = String(plan.length - levels.length);
    if (associated.size > 0) {
      vendor.associatedImages = [...associated.keys()].join(',');
      for (const [name, o] of associated) vendor[`associated.${name}`] = `${o.inst.width}x${o.inst.height}`;
    }
    const stated = base.spacingMm ? base.spacingMm[1] * 1000 : null;
    const mpp = plausibleMpp(stated, 'DICOM PixelSpacing');
    if (mpp.warning) warnings.push(mpp.warning);
    const meta: ImageMetadata = {
      format: 'dicom',
      width: base.width,
      height: base.height,
      levels: plan.map((l) => ({ width: l.width, height: l.height, downsample: downsampleOf(base.width, l.width) })),
      mpp: mpp.mpp,
      tileWidth: base.tileWidth,
      tileHeight: base.tileHeight,
      vendor: boundedVendor(vendor),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    return new DicomReader(path, meta, plan, levels, associated);
  } catch (err) {
    await Promise.all(opened.map((o) => o.source.close().catch(() => undefined)));
    throw err;
  }
}

export const dicomFormat: ReaderFormat = {
  id: 'dicom',
  description: 'DICOM whole-slide microscopy (a series of tiled instances: uncompressed, JPEG or JPEG 2000 frames)',
  sniff: (head) => isDicom(head),
  open: (path, options) => openDicomSeries(path, options),
};

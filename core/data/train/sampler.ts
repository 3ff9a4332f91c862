// Training tiles from the collection. A SamplingPlan (built once, serialisable, sent to every worker) holds
// per image: the native pyramid level nearest the requested resolution (never coarser; the rule of
// ../resolution.ts, which also says how images without mpp are sampled), the resampling factor, and the
// Otsu tissue mask of the thumbnail (the same mask, cached once, as the "Tissue mask" overlay). A TileSampler then draws
// tiles: pick an image (each equally likely, or weighted by foreground area), a point on its foreground,
// read the region at the chosen level, resample it to the tile size, and keep it when enough of it is
// foreground. Images without a foreground are sampled uniformly (and logged). With a tile list (a curated
// set) it instead picks one listed square, all equally likely, and centres the tile on a point inside it.
import { readFile } from 'node:fs/promises';
import { sharp } from '../../io/sharp.js';
import { DinoscopeError } from '../../common/errors.js';
import { renderThumbnail } from '../thumbnail.js';
import { DEFAULT_TISSUE_MASK, type Mask } from '../tissue-mask.js';
import { cachedTissueMask } from '../tissue-mask-cache.js';
import { type ChannelWindow, readChannelWindows, scaleChannels } from '../channel-scaling.js';
import type { ImageReader, RgbImage } from '../reader.js';
import { resolutionLines, type ResolutionUse } from '../resolution-log.js';
import { mppSource, scaleFor, withStatedMpp } from '../resolution.js';
import { openImage } from '../readers/registry.js';
import { type ChwImage, chwImage } from './augment/image.js';
import { resizedCrop } from './augment/resized-crop.js';
import type { Rng } from './random.js';
import type { ListedTile } from './tile-list.js';

export interface SamplerImage {
  id: string;
  /** The file to read pixels from (a pyramid cache when the project has one). */
  path: string;
  /** A JPEG thumbnail of the whole image, when one exists (the project's cache/thumbnails/ID.jpg). */
  thumbnail?: string;
  /** The tissue mask's cache file (the project's cache/tissue-masks/ID.mask, ../tissue-mask-cache.ts). */
  tissueMask?: string;
  /** µm per pixel the user stated for an image whose file states none (the project's statedMpp). */
  statedMpp?: number;
}

export interface SamplerOptions {
  /** Output tile side in pixels (e.g. 1.5 × the global crop, so RandomResizedCrop has room). */
  tileSize: number;
  /** Target resolution in µm per pixel; images that do not state their mpp fall back to `level` (logged). */
  mpp?: number;
  /** Pyramid level to sample when `mpp` is absent or unknown for an image (default 0). */
  level?: number;
  /** Minimum foreground fraction of an accepted tile (default 0.5). */
  minForeground?: number;
  /**
   * C: the images are a C-channel fluorescence panel: every image must have C channels, and tiles also carry
   * their samples scaled to [0, 1] per channel by the image's window (../channel-scaling.ts). Absent: RGB.
   */
  channels?: number;
  /** 'image': each image equally likely (default); 'area': weighted by foreground area at level 0. */
  balance?: 'image' | 'area';
  /**
   * A tile list (a curated set, ./tile-list.ts): each tile is drawn from one of its squares, all equally
   * likely or in proportion to their weights, instead of from a uniform point on the tissue; tiles of images
   * not in `images` are left out.
   */
  tiles?: readonly ListedTile[];
  log?: (line: string) => void;
}

export interface ImagePlan {
  id: string;
  path: string;
  /** Level-0 size. */
  width: number;
  height: number;
  /** The native level read from, and its downsample relative to level 0. */
  level: number;
  levelDownsample: number;
  /** Output pixel size in level-0 pixels (the target downsample). */
  downsample: number;
  /** Tissue mask over the whole image (thumbnail resolution), or null when it has no foreground. */
  mask: Mask | null;
  /** Foreground mask pixel indices (for drawing points on tissue). */
  foreground: Int32Array;
  /** Fraction of the image that is foreground (0 when uniform fallback). */
  foregroundFraction: number;
  /** A multi-channel plan: the image's channel windows (file units → [0, 1]). */
  windows?: ChannelWindow[];
}

export interface SamplingPlan {
  tileSize: number;
  /** C for a multi-channel plan (tiles carry `channels`); absent: RGB. */
  channels?: number;
  minForeground: number;
  images: ImagePlan[];
  /** Relative probability of each image. */
  weights: number[];
  /** With a tile list: its squares (level-0 pixels) on images of `images` (by index), each equally likely
   * unless the list has weights. */
  listed?: { image: number; x: number; y: number; size: number }[];
  /** A weighted list: the running sums of the squares' weights (the last is the total). */
  listedCumulative?: number[];
}

/** One sampled tile. */
export interface SampledTile {
  /** RGB: the tile; a multi-channel plan: the reader's RGB composite of it (previews). */
  tile: RgbImage;
  /** A multi-channel plan: (C, S, S) in [0, 1], each channel scaled by its image's window. */
  channels?: ChwImage;
  imageId: string;
  /** The tile's top-left corner and side in level-0 pixels. */
  x: number;
  y: number;
  size: number;
  /** Foreground fraction of the tile on the mask (1 under uniform fallback). */
  foreground: number;
}

async function thumbnailJpeg(img: SamplerImage, reader: ImageReader): Promise<Uint8Array> {
  if (img.thumbnail) {
    try {
      return await readFile(img.thumbnail);
    } catch {
      // no cached thumbnail: render one below
    }
  }
  return renderThumbnail(reader);
}

/** Opens every image once, chooses levels and computes tissue masks. Throws BAD_INPUT when there is nothing to sample. */
export async function buildSamplingPlan(images: readonly SamplerImage[], opts: SamplerOptions): Promise<SamplingPlan> {
  const log = opts.log ?? ((): void => {});
  if (!Number.isInteger(opts.tileSize) || opts.tileSize < 8)
    throw new DinoscopeError('BAD_INPUT', `Tile size must be an integer ≥ 8, got ${opts.tileSize}.`);
  if (opts.mpp !== undefined && !(opts.mpp > 0))
    throw new DinoscopeError('BAD_INPUT', `Target resolution must be a positive number of µm per pixel, got ${opts.mpp}.`);
  if (images.length === 0) throw new DinoscopeError('BAD_INPUT', 'There are no readable images to train on.');
  const plans: ImagePlan[] = [];
  const uses: ResolutionUse[] = [];
  for (const img of images) {
    const reader = await openImage(img.path);
    try {
      const meta = withStatedMpp(reader.meta, img.statedMpp);
      const { downsample, level, levelDownsample } = scaleFor(meta, { mpp: opts.mpp, level: opts.level });
      uses.push({ path: img.path, source: mppSource(reader.meta, img.statedMpp), mpp: meta.mpp, level });
      const windows = opts.channels !== undefined ? await planWindows(reader, opts.channels) : undefined;
      // A channel panel is fluorescence: its foreground is signal on a dark background (the mask extraction's
      // 'auto' uses for it too, cached beside the brightfield one under the same name as extraction's).
      const mask = windows
        ? await cachedTissueMask(await thumbnailJpeg(img, reader), img.tissueMask?.replace(/(\.mask)?$/, '.fluorescence.mask'), {
            ...DEFAULT_TISSUE_MASK,
            mode: 'fluorescence',
          })
        : await cachedTissueMask(await thumbnailJpeg(img, reader), img.tissueMask);
      const fg: number[] = [];
      for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) fg.push(i);
      if (fg.length === 0) log(`${img.path}: no foreground found on the thumbnail; sampling it uniformly.`);
      plans.push({
        id: img.id,
        path: img.path,
        width: meta.width,
        height: meta.height,
        level,
        levelDownsample,
        downsample,
        mask: fg.length ? mask : null,
        foreground: Int32Array.from(fg),
        foregroundFraction: fg.length / mask.data.length,
        ...(windows ? { windows } : {}),
      });
    } finally {
      await reader.close();
    }
  }
  for (const line of resolutionLines(uses, opts.mpp, 'sampled')) log(line.text);
  const weights = plans.map((p) => (opts.balance === 'area' ? (p.mask ? p.foregroundFraction : 1) * p.width * p.height : 1));
  const plan: SamplingPlan = { tileSize: opts.tileSize, minForeground: opts.minForeground ?? 0.5, images: plans, weights };
  if (opts.channels !== undefined) plan.channels = opts.channels;
  if (opts.tiles) {
    const index = new Map(plans.map((p, i) => [p.id, i]));
    const kept = opts.tiles.flatMap((t) => {
      const image = index.get(t.imageId);
      return image === undefined ? [] : [{ image, x: t.x, y: t.y, size: t.size, weight: t.weight }];
    });
    plan.listed = kept.map(({ weight: _, ...square }) => square);
    const dropped = opts.tiles.length - plan.listed.length;
    if (!plan.listed.length)
      throw new DinoscopeError('BAD_INPUT', "None of the tile list's images are in this project any more: make the curated set again.");
    if (kept.some((t) => t.weight !== undefined)) {
      let sum = 0;
      plan.listedCumulative = kept.map((t) => (sum += t.weight ?? 0));
      if (!(sum > 0))
        throw new DinoscopeError(
          'BAD_INPUT',
          "The tile list's tiles on this project's images all have weight 0: make the curated set again.",
        );
    }
    if (dropped) opts.log?.(`sampler: ${dropped} listed tiles are on images no longer in the project; left out.`);
  }
  return plan;
}

/** The channel windows of an image of a C-channel plan; BAD_INPUT naming the file when it is not C-channel. */
async function planWindows(reader: ImageReader, channels: number): Promise<ChannelWindow[]> {
  const have = reader.meta.channels?.length ?? 0;
  if (have !== channels || !reader.readChannels)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${reader.path} has ${have ? `${have} channels` : 'no separate channels (an RGB image)'}, but the run trains on ${channels}-channel images: ` +
        'train on images of one channel panel (leave the others out of the project or train on them separately).',
    );
  return readChannelWindows(reader);
}

/** Foreground fraction of the level-0 square (x, y, size) on the plan's mask (mask pixels whose centre falls inside). */
export function tileForeground(p: ImagePlan, x: number, y: number, size: number): number {
  if (!p.mask) return 1;
  const m = p.mask;
  const sx = m.width / p.width;
  const sy = m.height / p.height;
  // Mask pixel i covers level-0 [i/sx, (i+1)/sx); its centre is inside when x ≤ (i + 0.5)/sx < x + size.
  const x0 = Math.max(0, Math.ceil(x * sx - 0.5));
  const x1 = Math.min(m.width - 1, Math.ceil((x + size) * sx - 0.5) - 1);
  const y0 = Math.max(0, Math.ceil(y * sy - 0.5));
  const y1 = Math.min(m.height - 1, Math.ceil((y + size) * sy - 0.5) - 1);
  if (x1 < x0 || y1 < y0) {
    // Smaller than a mask pixel: the pixel under the centre decides.
    const cx = Math.min(m.width - 1, Math.max(0, Math.floor((x + size / 2) * sx)));
    const cy = Math.min(m.height - 1, Math.max(0, Math.floor((y + size / 2) * sy)));
    return m.data[cy * m.width + cx];
  }
  let on = 0;
  for (let j = y0; j <= y1; j++) for (let i = x0; i <= x1; i++) on += m.data[j * m.width + i];
  return on / ((x1 - x0 + 1) * (y1 - y0 + 1));
}

/** Draws tiles from a plan; opens readers lazily (one per image) so each worker holds its own. */
export class TileSampler {
  private readers = new Map<string, Promise<ImageReader>>();

  constructor(readonly plan: SamplingPlan) {}

  private reader(p: ImagePlan): Promise<ImageReader> {
    let r = this.readers.get(p.path);
    if (!r) {
      r = openImage(p.path);
      r.catch(() => this.readers.delete(p.path));
      this.readers.set(p.path, r);
    }
    return r;
  }

  /** A position (level-0 top-left) for a tile of side `size` in image p: on its foreground, up to 10 tries. */
  private position(rng: Rng, p: ImagePlan, size: number): { x: number; y: number; foreground: number } {
    const clamp = (v: number, extent: number): number => (extent <= size ? (extent - size) / 2 : Math.min(Math.max(v, 0), extent - size));
    if (!p.mask)
      return { x: clamp(rng.uniform(0, p.width - size), p.width), y: clamp(rng.uniform(0, p.height - size), p.height), foreground: 1 };
    const m = p.mask;
    let best = { x: 0, y: 0, foreground: -1 };
    for (let attempt = 0; attempt < 10; attempt++) {
      const idx = p.foreground[rng.int(0, p.foreground.length)];
      // A uniform point inside that mask pixel, in level-0 coordinates, becomes the tile centre.
      const cx = (((idx % m.width) + rng.random()) * p.width) / m.width;
      const cy = ((Math.floor(idx / m.width) + rng.random()) * p.height) / m.height;
      const x = clamp(cx - size / 2, p.width);
      const y = clamp(cy - size / 2, p.height);
      const foreground = tileForeground(p, x, y, size);
      if (foreground > best.foreground) best = { x, y, foreground };
      if (foreground >= this.plan.minForeground) break;
    }
    return best;
  }

  /** A position for a tile of side `size` centred on a uniform point of a listed square (clamped inside). */
  private listedPosition(
    rng: Rng,
    p: ImagePlan,
    t: { x: number; y: number; size: number },
    size: number,
  ): { x: number; y: number; foreground: number } {
    const clamp = (v: number, extent: number): number => (extent <= size ? (extent - size) / 2 : Math.min(Math.max(v, 0), extent - size));
    const x = clamp(t.x + rng.random() * t.size - size / 2, p.width);
    const y = clamp(t.y + rng.random() * t.size - size / 2, p.height);
    return { x, y, foreground: tileForeground(p, x, y, size) };
  }

  async sample(rng: Rng): Promise<SampledTile> {
    const listed = this.plan.listed;
    const t = listed
      ? listed[this.plan.listedCumulative ? drawWeighted(this.plan.listedCumulative, rng.random()) : rng.int(0, listed.length)]
      : null;
    const p = this.plan.images[t ? t.image : rng.weighted(this.plan.weights)];
    const S = this.plan.tileSize;
    const size = S * p.downsample; // tile side in level-0 pixels
    const pos = t ? this.listedPosition(rng, p, t, size) : this.position(rng, p, size);
    const reader = await this.reader(p);
    // Read the square at the chosen level (level px = level-0 px / levelDownsample), then resample to S × S.
    const lx = Math.round(pos.x / p.levelDownsample);
    const ly = Math.round(pos.y / p.levelDownsample);
    const side = Math.max(1, Math.round(size / p.levelDownsample));
    const region = await reader.readRegion(p.level, lx, ly, side, side); // (side, side, 3)
    let tile = region;
    if (side !== S) {
      const data = await sharp(region.data, { raw: { width: side, height: side, channels: 3 } })
        .resize(S, S, { kernel: side > S ? 'lanczos3' : 'cubic', fit: 'fill' })
        .raw()
        .toBuffer();
      tile = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: S, height: S };
    }
    const out: SampledTile = {
      tile,
      imageId: p.id,
      x: lx * p.levelDownsample,
      y: ly * p.levelDownsample,
      size,
      foreground: pos.foreground,
    };
    if (p.windows && reader.readChannels) {
      const raw = await reader.readChannels(p.level, lx, ly, side, side); // (C, side, side) in the file's units
      const scaled = chwImage(side, side, scaleChannels(raw, p.windows), raw.channels); // [0, 1]
      out.channels = side === S ? scaled : resizedCrop(scaled, { top: 0, left: 0, height: side, width: side }, S, S); // bicubic, antialiased
    }
    return out;
  }

  async close(): Promise<void> {
    const all = [...this.readers.values()];
    this.readers.clear();
    for (const r of all) await (await r.catch(() => null))?.close();
  }
}

/** The index i of the first running sum above u · total (u in [0, 1)): a draw in proportion to the weights. */
export function drawWeighted(cumulative: readonly number[], u: number): number {
  const r = u * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

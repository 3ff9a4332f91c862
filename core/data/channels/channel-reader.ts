// The ImageReader of multi-channel images (OME-TIFF planes, OME-Zarr arrays): a format supplies the stored
// levels and one tile's samples of every channel; this class assembles regions from a bytes-bounded tile
// cache, synthesizes halvings where stored levels are far apart (tiff/level-plan.ts, as the tiled TIFF
// reader does), and draws readRegion as the default composite (channels/defaults.ts) so every RGB consumer
// (thumbnails, tiles, extraction) keeps working.
import type { ChannelDisplay, ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { ChannelImage, ImageReader, RgbImage } from '../reader.js';
import { downsampleOf } from '../resolution.js';
import { checkRegion, eachTilePart } from '../rgb.js';
import { levelPlan, type PlannedLevel } from '../tiff/level-plan.js';
import { TileCache } from '../tiff/tile-cache.js';
import { Gate, SYNTHESIS_PER_LEVEL } from '../readers/tiled-tiff.js';
import { composite } from './composite.js';
import { readerDefaultDisplay } from './display.js';

/** The most samples (pixels × channels) one readChannels call may return: 512 MiB of floats. */
export const MAX_REGION_SAMPLES = 2 ** 27;

export interface StoredChannelLevel {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
}

/** What a multi-channel format provides. */
export interface ChannelTileSource {
  /** Stored levels, largest first, each smaller than the one before. */
  readonly levels: readonly StoredChannelLevel[];
  readonly channels: number;
  /** Tile (tx, ty) of stored level `level`: planar, channels × tileHeight × tileWidth; null where the file
   * has no data for it (it reads 0). Samples past the level's edge may be anything: they are never read. */
  readTile(level: number, tx: number, ty: number): Promise<Float32Array | null>;
  close(): Promise<void>;
}

interface SampleTile {
  data: Float32Array;
}

/** Levels of the metadata for a plan of stored and synthesized levels. */
export function planLevels(plan: readonly PlannedLevel[]): ImageMetadata['levels'] {
  const w0 = plan[0].width;
  return plan.map((l) => ({ width: l.width, height: l.height, downsample: downsampleOf(w0, l.width) }));
}

export class ChannelReader implements ImageReader {
  readonly cache: TileCache<SampleTile>;
  readonly plan: PlannedLevel[];
  private readonly gates = new Map<number, Gate>();
  private display: Promise<ChannelDisplay[]> | null = null;

  constructor(
    readonly path: string,
    readonly meta: ImageMetadata,
    private readonly source: ChannelTileSource,
    cacheBytes?: number,
  ) {
    this.plan = levelPlan(source.levels);
    this.cache = new TileCache<SampleTile>(cacheBytes);
  }

  /** The plan of levels a format's metadata reports (stored plus synthesized). */
  static planOf(levels: readonly StoredChannelLevel[]): PlannedLevel[] {
    return levelPlan(levels);
  }

  private tile(level: number, tx: number, ty: number): Promise<SampleTile | null> {
    const planned = this.plan[level];
    const key = `${level}/${tx}/${ty}`;
    if (planned.native !== null) {
      const native = planned.native;
      return this.cache.get(key, async () => {
        const data = await this.source.readTile(native, tx, ty);
        return data ? { data } : null;
      });
    }
    let gate = this.gates.get(level);
    if (!gate) this.gates.set(level, (gate = new Gate(SYNTHESIS_PER_LEVEL)));
    const g = gate;
    return this.cache.get(key, () => g.run(() => this.synthesizedTile(level, tx, ty)));
  }

  /** A tile of a synthesized level: the 2 × 2 mean of its footprint on the level before it. */
  private async synthesizedTile(level: number, tx: number, ty: number): Promise<SampleTile> {
    const { tileWidth: tw, tileHeight: th } = this.plan[level];
    const src = await this.readChannels(level - 1, 2 * tx * tw, 2 * ty * th, 2 * tw, 2 * th);
    const C = this.source.channels;
    const out = new Float32Array(C * tw * th);
    const sw = 2 * tw;
    for (let c = 0; c < C; c++) {
      const s = c * sw * 2 * th;
      const o = c * tw * th;
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const a = s + 2 * y * sw + 2 * x;
          out[o + y * tw + x] = (src.data[a] + src.data[a + 1] + src.data[a + sw] + src.data[a + sw + 1]) / 4;
        }
      }
    }
    return { data: out };
  }

  async readChannels(level: number, x: number, y: number, width: number, height: number): Promise<ChannelImage> {
    checkRegion(this.path, this.plan.length, level, x, y, width, height);
    const C = this.source.channels;
    if (width * height * C > MAX_REGION_SAMPLES)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${this.path}: a ${width} × ${height} region of ${C} channels is more than the ${MAX_REGION_SAMPLES} samples read at once.`,
      );
    const out: ChannelImage = { data: new Float32Array(width * height * C), width, height, channels: C };
    const layout = this.plan[level];
    const { tileWidth: tw, tileHeight: th } = layout;
    // A tile with no data stays 0.
    await eachTilePart(
      layout,
      x,
      y,
      width,
      height,
      (tx, ty) => this.tile(level, tx, ty),
      (tile, p) => {
        for (let c = 0; c < C; c++) {
          for (let r = p.y0; r < p.y1; r++) {
            const s = c * tw * th + (r - p.ty * th) * tw + (p.x0 - p.tx * tw);
            out.data.set(tile.data.subarray(s, s + (p.x1 - p.x0)), c * width * height + (r - y) * width + (p.x0 - x));
          }
        }
      },
    );
    return out;
  }

  /** The display readRegion draws with (channels/display.ts: defaults over a low level's statistics). */
  defaultDisplay(): Promise<ChannelDisplay[]> {
    this.display ??= readerDefaultDisplay(this);
    return this.display;
  }

  async readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    const [img, display] = await Promise.all([this.readChannels(level, x, y, width, height), this.defaultDisplay()]);
    return composite(img, display);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.source.close();
  }
}

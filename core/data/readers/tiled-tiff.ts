// The reader for tiled TIFF levels (plain pyramidal TIFF, BigTIFF, SVS, OME-TIFF and the pyramid cache):
// readRegion assembles the decoded tiles overlapping the rectangle, through a shared LRU tile cache.
// Levels follow tiff/level-plan.ts: stored levels, and levels synthesized by 2 × 2 averaging of the level
// before them where the file's levels are far apart. Sparse tiles (byte count 0) are never allocated.
import type { ImageMetadata } from '../../common/api.js';
import type { ImageReader, RgbImage } from '../reader.js';
import { checkRegion, copyRect, eachTilePart, whiteImage } from '../rgb.js';
import { decodeTile } from '../tiff/decode.js';
import { jpegFrameSize } from '../tiff/jpeg.js';
import type { PlannedLevel } from '../tiff/level-plan.js';
import { completeJpeg } from '../tiff/jpeg.js';
import { Compression, Photometric } from '../tiff/tags.js';
import type { TileLayout } from '../tiff/level.js';
import type { FileSource } from '../tiff/source.js';
import { DinoscopeError } from '../../common/errors.js';
import { TileCache } from '../tiff/tile-cache.js';

/** Synthesized tiles made at once per level: each holds a 2 × 2-tile region of the level above, and
 * without a bound a region of a synthesized level would start all its tiles, and they all theirs, at once. */
export const SYNTHESIS_PER_LEVEL = 2;

/** At most `limit` tasks at once, in arrival order. */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class TiledTiffReader implements ImageReader {
  readonly cache: TileCache;
  private readonly gates = new Map<number, Gate>();

  constructor(
    readonly path: string,
    readonly meta: ImageMetadata,
    private readonly source: FileSource,
    private readonly layouts: readonly TileLayout[],
    private readonly plan: readonly PlannedLevel[],
    cacheBytes?: number,
  ) {
    this.cache = new TileCache(cacheBytes);
  }

  /** The decoded tile (tx, ty) of a level, (tileHeight, tileWidth, 3); null for a sparse tile (white). */
  tile(level: number, tx: number, ty: number): Promise<RgbImage | null> {
    const planned = this.plan[level];
    if (planned.native === null) {
      let gate = this.gates.get(level);
      if (!gate) this.gates.set(level, (gate = new Gate(SYNTHESIS_PER_LEVEL)));
      const g = gate;
      return this.cache.get(`${level}/${tx}/${ty}`, () => g.run(() => this.synthesizedTile(level, tx, ty)));
    }
    const layout = this.layouts[planned.native];
    return this.cache.get(`${level}/${tx}/${ty}`, async () => {
      const i = ty * layout.tilesAcross + tx;
      const count = layout.byteCounts[i];
      if (count === 0) return null; // sparse tile: never written, reads white
      const what = `tile ${tx},${ty} of level ${level}`;
      const bytes = await this.source.read(layout.offsets[i], count, what);
      try {
        return await decodeTile(bytes, layout, `${this.path}: ${what}`);
      } catch (err) {
        if (err instanceof DinoscopeError) throw err;
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        throw new DinoscopeError('CORRUPT', `${this.path}: tile ${tx},${ty} of level ${level} cannot be decoded (${msg}).`);
      }
    });
  }

  /** The stored JPEG of tile (tx, ty), completed into a standalone stream, for servers that pass tiles
   * through without decoding (core/tiles/render.ts); null when the level is not 3-sample JPEG or the tile
   * is absent. The stream is always the full tile size (edge tiles include the encoder's padding). */
  async jpegTile(level: number, tx: number, ty: number): Promise<{ bytes: Uint8Array; tileWidth: number; tileHeight: number } | null> {
    const native = this.plan[level]?.native;
    const layout = native === null || native === undefined ? undefined : this.layouts[native];
    if (!layout || layout.compression !== Compression.JPEG || layout.samples !== 3) return null;
    if (!(tx >= 0 && ty >= 0 && tx < layout.tilesAcross && ty < layout.tilesDown)) return null;
    const i = ty * layout.tilesAcross + tx;
    const count = layout.byteCounts[i];
    if (!count) return null;
    const bytes = await this.source.read(layout.offsets[i], count, `tile ${tx},${ty} of level ${level}`);
    const stream = completeJpeg(bytes, layout.jpegTables, layout.photometric === Photometric.RGB);
    // Only a frame of exactly the tile's size passes through; anything else is decoded (and refused) instead.
    const frame = jpegFrameSize(stream);
    if (!frame || frame.width !== layout.tileWidth || frame.height !== layout.tileHeight) return null;
    return { bytes: stream, tileWidth: layout.tileWidth, tileHeight: layout.tileHeight };
  }

  /** A tile of a synthesized level: the 2 × 2 average of its footprint on the level before it. When that
   * level has tiles of the same size (always, between synthesized levels), the footprint is exactly 2 × 2
   * of its tiles, averaged quadrant by quadrant without assembling the region; sparse ones stay white.
   * Tiles at the level's right and bottom edges go through readRegion, which clips the encoder's padding. */
  private async synthesizedTile(level: number, tx: number, ty: number): Promise<RgbImage> {
    const { tileWidth: tw, tileHeight: th } = this.plan[level];
    const above = this.plan[level - 1];
    const out = new Uint8Array(tw * th * 3).fill(255);
    const inside = (2 * tx + 2) * tw <= above.width && (2 * ty + 2) * th <= above.height; // no edge padding to clip
    if (above.tileWidth !== tw || above.tileHeight !== th || tw % 2 !== 0 || th % 2 !== 0 || !inside) {
      const src = await this.readRegion(level - 1, 2 * tx * tw, 2 * ty * th, 2 * tw, 2 * th); // (2th, 2tw, 3)
      halve(src.data, 2 * tw, 0, 0, tw, th, out, tw, 0, 0);
      return { data: out, width: tw, height: th };
    }
    const jobs: Promise<void>[] = [];
    for (let qy = 0; qy < 2; qy++) {
      for (let qx = 0; qx < 2; qx++) {
        const cx = 2 * tx + qx;
        const cy = 2 * ty + qy;
        jobs.push(
          this.tile(level - 1, cx, cy).then((child) => {
            if (child) halve(child.data, tw, 0, 0, tw / 2, th / 2, out, tw, (qx * tw) / 2, (qy * th) / 2);
          }),
        );
      }
    }
    await Promise.all(jobs);
    return { data: out, width: tw, height: th };
  }

  async readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    checkRegion(this.path, this.plan.length, level, x, y, width, height);
    const layout = this.plan[level];
    const out = whiteImage(width, height);
    const { tileWidth: tw, tileHeight: th } = layout;
    // A sparse tile stays white.
    await eachTilePart(
      layout,
      x,
      y,
      width,
      height,
      (tx, ty) => this.tile(level, tx, ty),
      (tile, p) => copyRect(tile, p.x0 - p.tx * tw, p.y0 - p.ty * th, out, p.x0 - x, p.y0 - y, p.x1 - p.x0, p.y1 - p.y0),
    );
    return out;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.source.close();
  }
}

/** Average 2 × 2 blocks of src (RGB, srcWidth wide) from (sx, sy) into a w × h block of dst at (dx, dy). */
export function halve(
  src: Uint8Array,
  srcWidth: number,
  sx: number,
  sy: number,
  w: number,
  h: number,
  dst: Uint8Array,
  dstWidth: number,
  dx: number,
  dy: number,
): void {
  const row = srcWidth * 3;
  for (let y = 0; y < h; y++) {
    let a = ((sy + 2 * y) * srcWidth + sx) * 3;
    let o = ((dy + y) * dstWidth + dx) * 3;
    for (let x = 0; x < w; x++, a += 6, o += 3) {
      dst[o] = (src[a] + src[a + 3] + src[a + row] + src[a + row + 3] + 2) >> 2;
      dst[o + 1] = (src[a + 1] + src[a + 4] + src[a + row + 1] + src[a + row + 4] + 2) >> 2;
      dst[o + 2] = (src[a + 2] + src[a + 5] + src[a + row + 2] + src[a + row + 5] + 2) >> 2;
    }
  }
}

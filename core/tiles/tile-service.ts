// The deep-zoom tile server behind both hosts: encoded tiles in a bytes-bounded LRU (concurrent requests
// for one tile share one render), open readers in their own LRU, thumbnails and overlay tiles. Tiles of a
// multi-channel image are drawn with its saved channel display (or its reader's default), and cached
// under the display's key.
import { readFile } from 'node:fs/promises';
import type { ChannelDisplay } from '../common/api.js';
import { displayKey } from '../data/channels/display.js';
import type { ImageReader } from '../data/reader.js';
import type { Mask } from '../data/tissue-mask.js';
import { cachedTissueMask } from '../data/tissue-mask-cache.js';
import { DinoscopeError } from '../common/errors.js';
import { dziGeometry, type DziGeometry } from './dzi.js';
import { Lru } from './lru.js';
import { OverlayRegistry } from './overlays/registry.js';
import { TissueMaskOverlay } from './overlays/tissue-mask.js';
import { ReaderCache } from './reader-cache.js';
import { renderTileJpeg } from './render.js';

/** Where an image's pixels are: the file to open (source or pyramid cache) and its full-resolution size. */
export interface TileImage {
  path: string;
  width: number;
  height: number;
}

export interface TileServiceOptions {
  /** The image for an id, or a DinoscopeError (NOT_FOUND, or why it cannot be shown). */
  locate(imageId: string): TileImage;
  /** Where the image's thumbnail is (any image of the project, shown or not), or NOT_FOUND. */
  thumbnailPath(imageId: string): string;
  /** Where the image's tissue mask is cached (core/data/tissue-mask-cache.ts); computed each time without. */
  tissueMaskPath?(imageId: string): string;
  openImage(path: string): Promise<ImageReader>;
  /** The saved channel display of a multi-channel image, or null (its reader's default composite). */
  channelDisplay?(imageId: string): readonly ChannelDisplay[] | null;
  /** Bound of the encoded-tile cache (default 256 MiB). */
  cacheBytes?: number;
  /** How many readers stay open (default 16). */
  openReaders?: number;
}

export class TileService {
  readonly overlays = new OverlayRegistry();
  private readonly tiles: Lru<string, Uint8Array>;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly readers: ReaderCache;

  constructor(private readonly options: TileServiceOptions) {
    this.tiles = new Lru(options.cacheBytes ?? 256 * 1024 * 1024, (b) => b.byteLength);
    this.readers = new ReaderCache((path) => options.openImage(path), options.openReaders ?? 16);
    this.overlays.register(
      new TissueMaskOverlay({
        geometry: (id) => this.geometry(id),
        thumbnail: (id) => this.thumbnail(id),
        tissueMask: (id) => this.tissueMask(id),
      }),
    );
  }

  async geometry(imageId: string): Promise<DziGeometry> {
    const img = this.options.locate(imageId);
    return dziGeometry(img.width, img.height);
  }

  tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    const img = this.options.locate(imageId);
    const display = this.options.channelDisplay?.(imageId) ?? null;
    const key = display ? displayKey(display) : 'default';
    return this.cached(`t|${imageId}|${img.path}|${key}|${level}|${x}|${y}`, () =>
      this.readers.with(img.path, (r) => renderTileJpeg(r, level, x, y, display ?? undefined)),
    );
  }

  /** Runs `fn` with the image's open reader (the one its tiles are drawn from). */
  withReader<T>(imageId: string, fn: (reader: ImageReader) => Promise<T>): Promise<T> {
    return this.readers.with(this.options.locate(imageId).path, fn);
  }

  /** Forget the image's cached tiles (its display settings changed); readers and overlays stay. */
  invalidateTiles(imageId: string): void {
    this.tiles.deleteWhere((k) => k.startsWith(`t|${imageId}|`));
  }

  overlayTile(imageId: string, overlayId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    this.options.locate(imageId);
    const provider = this.overlays.get(overlayId);
    return this.cached(`o|${imageId}|${overlayId}|${level}|${x}|${y}`, () => provider.tile(imageId, level, x, y));
  }

  async thumbnail(imageId: string): Promise<Uint8Array> {
    const path = this.options.thumbnailPath(imageId);
    try {
      return await readFile(path);
    } catch {
      throw new DinoscopeError('NOT_FOUND', `Image ${imageId} has no thumbnail (${path} is missing).`);
    }
  }

  /** The tissue mask of the image's thumbnail, from its cache file when that is current. */
  async tissueMask(imageId: string): Promise<Mask> {
    return cachedTissueMask(await this.thumbnail(imageId), this.options.tissueMaskPath?.(imageId));
  }

  /** Forget every cached tile, overlay and open reader of the image (after it changed or was removed). */
  async invalidate(imageId: string): Promise<void> {
    this.tiles.deleteWhere((k) => k.startsWith(`t|${imageId}|`) || k.startsWith(`o|${imageId}|`));
    this.overlays.invalidate(imageId);
    let path: string | undefined;
    try {
      path = this.options.locate(imageId).path;
    } catch {
      path = undefined;
    }
    if (path) await this.readers.drop(path);
  }

  /** Forget the cached tiles of one overlay of an image (its layer was recomputed). */
  invalidateOverlay(imageId: string, overlayId: string): void {
    this.tiles.deleteWhere((k) => k.startsWith(`o|${imageId}|${overlayId}|`));
  }

  async close(): Promise<void> {
    this.tiles.clear();
    await this.readers.clear();
  }

  private cached(key: string, render: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.tiles.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      p = render().then(
        (bytes) => {
          this.inflight.delete(key);
          this.tiles.set(key, bytes);
          return bytes;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, p);
    }
    return p;
  }
}

// A bytes-bounded LRU cache of decoded tiles; concurrent requests for the same tile share one decode.
// null stands for a sparse tile (reads white, or dark for channel tiles) and is counted as a few bytes, so
// it is cached without allocating the tile. Tiles are RGB by default; multi-channel readers cache their
// planar sample tiles in the same way.
import type { RgbImage } from '../reader.js';

export const DEFAULT_TILE_CACHE_BYTES = 128 * 2 ** 20;
const SPARSE_BYTES = 64;
const sizeOf = (tile: { data: { byteLength: number } } | null): number => (tile ? tile.data.byteLength : SPARSE_BYTES);

export class TileCache<T extends { data: { byteLength: number } } = RgbImage> {
  private readonly tiles = new Map<string, T | null>(); // insertion order = recency
  private readonly pending = new Map<string, Promise<T | null>>();
  private bytes = 0;
  /** Decodes performed (for tests and stats). */
  decodes = 0;

  constructor(private readonly maxBytes = DEFAULT_TILE_CACHE_BYTES) {}

  get(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.tiles.get(key);
    if (hit !== undefined) {
      this.tiles.delete(key);
      this.tiles.set(key, hit);
      return Promise.resolve(hit);
    }
    const inflight = this.pending.get(key);
    if (inflight) return inflight;
    this.decodes++;
    const p = load().then(
      (tile) => {
        this.pending.delete(key);
        this.put(key, tile);
        return tile;
      },
      (err: unknown) => {
        this.pending.delete(key);
        throw err;
      },
    );
    this.pending.set(key, p);
    return p;
  }

  private put(key: string, tile: T | null): void {
    const size = sizeOf(tile);
    if (size > this.maxBytes) return;
    this.tiles.set(key, tile);
    this.bytes += size;
    for (const [k, t] of this.tiles) {
      if (this.bytes <= this.maxBytes) break;
      this.tiles.delete(k);
      this.bytes -= sizeOf(t);
    }
  }

  clear(): void {
    this.tiles.clear();
    this.bytes = 0;
  }
}

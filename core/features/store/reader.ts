// Reads any rectangle of a feature store's grid as float32 (h, w, dim), chunk by chunk.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { fromFloat16 } from '../../common/half.js';
import { chunkCounts, type StoreManifest } from './manifest.js';
import { chunkPath, readManifest } from './writer.js';

export class FeatureStoreReader {
  readonly dir: string;
  readonly manifest: StoreManifest;

  constructor(dir: string, manifest: StoreManifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  /** The (gridHeight, gridWidth) background mask (1 = tissue), or null when the store has none. */
  async mask(): Promise<Uint8Array | null> {
    try {
      const b = await readFile(join(this.dir, 'mask', 'c', '0', '0'));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** One chunk as float32 (dim, chunk.height, chunk.width); null when missing (never written or empty). */
  async chunk(cy: number, cx: number): Promise<Float32Array | null> {
    const { dim, chunk } = this.manifest;
    const path = chunkPath(this.dir, cy, cx);
    let b: Buffer;
    try {
      b = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const n = dim * chunk.height * chunk.width;
    if (b.byteLength !== n * 2) throw new DinoscopeError('CORRUPT', `${path}: chunk has ${b.byteLength} bytes, expected ${n * 2}.`);
    const u16 = new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    return fromFloat16(u16);
  }

  /** Patches [x, x+w) × [y, y+h) as float32 (h, w, dim); cells outside the grid or in missing chunks are 0. */
  async readRect(x: number, y: number, w: number, h: number): Promise<Float32Array> {
    const { dim, chunk, gridWidth, gridHeight } = this.manifest;
    const out = new Float32Array(w * h * dim);
    const plane = chunk.height * chunk.width;
    const { ny, nx } = chunkCounts(this.manifest);
    const cy0 = Math.max(0, Math.floor(y / chunk.height));
    const cy1 = Math.min(ny - 1, Math.floor((y + h - 1) / chunk.height));
    const cx0 = Math.max(0, Math.floor(x / chunk.width));
    const cx1 = Math.min(nx - 1, Math.floor((x + w - 1) / chunk.width));
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = await this.chunk(cy, cx); // (dim, ch, cw)
        if (!c) continue;
        const gy0 = Math.max(y, cy * chunk.height, 0);
        const gy1 = Math.min(y + h, (cy + 1) * chunk.height, gridHeight);
        const gx0 = Math.max(x, cx * chunk.width, 0);
        const gx1 = Math.min(x + w, (cx + 1) * chunk.width, gridWidth);
        for (let gy = gy0; gy < gy1; gy++) {
          for (let gx = gx0; gx < gx1; gx++) {
            const src = (gy - cy * chunk.height) * chunk.width + (gx - cx * chunk.width);
            const dst = ((gy - y) * w + (gx - x)) * dim; // (h, w, dim)
            for (let k = 0; k < dim; k++) out[dst + k] = c[k * plane + src];
          }
        }
      }
    }
    return out;
  }
}

export async function openFeatureStore(dir: string): Promise<FeatureStoreReader> {
  return new FeatureStoreReader(dir, await readManifest(dir));
}

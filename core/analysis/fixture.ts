// Test and demo support: a collection of texture mosaics with known regions, and feature stores whose
// structure follows the image (each texture has its own feature direction plus noise), written into a
// project in the layout core/features/extract uses (cache/features/<set>/<image>.zarr, index/, and the
// set in project.json features[]). Used by the analysis tests, the e2e test and the demo until
// extraction with a trained model is fast enough to stand in.
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sharp } from '../io/sharp.js';
import { ExactIndex } from '../features/index/exact.js';
import { gaussian, mulberry32 as rng } from '../common/random.js';
import { createFeatureStore } from '../features/store/writer.js';
import type { Project } from '../project/project.js';
import type { StoredFeatureSet } from '../project/schema.js';

export const TEXTURES = 4;

export interface MosaicSpec {
  /** Image side in pixels (a multiple of stride). */
  side: number;
  stride: number;
  dim: number;
  /** Per-dimension noise of the synthetic features (their texture direction has length 1). */
  noise?: number;
  /** Cells with features (default all): the others are background, zero in the store and not indexed. */
  tissue?: (gx: number, gy: number) => boolean;
}

/** Texture of grid cell (gx, gy) on image `i`: quadrants, rotated by one texture per image. */
export function textureAt(i: number, gx: number, gy: number, grid: number): number {
  const q = (gy < grid / 2 ? 0 : 2) + (gx < grid / 2 ? 0 : 1);
  return (q + i) % TEXTURES;
}

/** RGB of texture t at pixel (x, y): stained-tissue-like colours with distinct patterns. */
function texturePixel(t: number, x: number, y: number): [number, number, number] {
  if (t === 0) return Math.floor(y / 6) % 2 ? [214, 120, 178] : [150, 60, 130]; // horizontal stripes
  if (t === 1) return (Math.floor(x / 10) + Math.floor(y / 10)) % 2 ? [90, 110, 200] : [180, 190, 235]; // checker
  if (t === 2) return ((x % 12) - 6) ** 2 + ((y % 12) - 6) ** 2 < 12 ? [80, 20, 90] : [235, 170, 200]; // dots
  return Math.floor((x + y) / 7) % 2 ? [200, 120, 60] : [120, 60, 30]; // diagonal stripes
}

/** Writes mosaic PNGs (image i in `dir`/mosaic-i.png); returns their paths. */
export async function writeMosaics(dir: string, count: number, spec: MosaicSpec): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const grid = spec.side / spec.stride;
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const px = Buffer.alloc(spec.side * spec.side * 3); // (h, w, 3)
    for (let y = 0; y < spec.side; y++) {
      for (let x = 0; x < spec.side; x++) {
        const c = texturePixel(textureAt(i, Math.floor(x / spec.stride), Math.floor(y / spec.stride), grid), x, y);
        px.set(c, 3 * (y * spec.side + x));
      }
    }
    const p = join(dir, `mosaic-${i}.png`);
    await sharp(px, { raw: { width: spec.side, height: spec.side, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  return paths;
}

/** Unit direction of each texture (TEXTURES × dim), seeded. */
export function textureDirections(dim: number, seed = 11): Float32Array {
  const g = gaussian(rng(seed));
  const out = new Float32Array(TEXTURES * dim);
  for (let t = 0; t < TEXTURES; t++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += (out[t * dim + j] = g()) ** 2;
    for (let j = 0; j < dim; j++) out[t * dim + j] /= Math.sqrt(n);
  }
  return out;
}

/**
 * Synthetic features for the project's images (in `imageIds` order = mosaic index), one store each and
 * one index, recorded as feature set `setId` in project.json.
 */
export async function writeSyntheticFeatures(
  project: Project,
  imageIds: readonly string[],
  spec: MosaicSpec,
  setId = 'synthetic-level0',
  /** The texture of patch (gx, gy) of image i (default: the mosaic's quadrants, textureAt). */
  textureOf: (i: number, gx: number, gy: number, grid: number) => number = textureAt,
): Promise<StoredFeatureSet> {
  const { dim, stride } = spec;
  const grid = spec.side / stride;
  const noise = spec.noise ?? 0.12;
  const dirs = textureDirections(dim);
  const g = gaussian(rng(5));
  const setDir = join(project.cacheDir, 'features', setId);
  const index = await ExactIndex.create(join(setDir, 'index'), dim);
  const now = new Date().toISOString();
  const set: StoredFeatureSet = {
    id: setId,
    modelId: 'synthetic',
    modelConfigHash: 'synthetic',
    mpp: null,
    level: 0,
    dim,
    dir: relative(project.dir, setDir),
    images: [],
    createdAt: now,
    updatedAt: now,
  };
  for (const [i, id] of imageIds.entries()) {
    const feats = new Float32Array(grid * grid * dim); // (h, w, dim)
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const t = textureOf(i, gx, gy, grid);
        const o = (gy * grid + gx) * dim;
        for (let j = 0; j < dim; j++) feats[o + j] = dirs[t * dim + j] + noise * g();
        if (spec.tissue && !spec.tissue(gx, gy)) feats.fill(0, o, o + dim);
      }
    }
    const storeDir = join(setDir, `${id}.zarr`);
    const chunk = 16;
    const w = await createFeatureStore(storeDir, {
      modelId: 'synthetic',
      modelConfigHash: 'synthetic',
      level: 0,
      mpp: null,
      stride,
      origin: { x: 0, y: 0 },
      gridWidth: grid,
      gridHeight: grid,
      dim,
      chunk: { height: chunk, width: chunk },
    });
    for (let cy = 0; cy < w.ny; cy++) {
      for (let cx = 0; cx < w.nx; cx++) {
        const r = w.chunkRect(cy, cx);
        const part = new Float32Array(r.width * r.height * dim); // (h, w, dim) of the chunk
        for (let y = 0; y < r.height; y++)
          for (let x = 0; x < r.width; x++)
            part.set(feats.subarray(((r.y + y) * grid + r.x + x) * dim, ((r.y + y) * grid + r.x + x + 1) * dim), (y * r.width + x) * dim);
        await w.writeChunk(cy, cx, part);
      }
    }
    await w.commit();
    const positions = Uint32Array.from({ length: grid * grid }, (_, p) => p).filter(
      (p) => !spec.tissue || spec.tissue(p % grid, Math.floor(p / grid)),
    );
    const vectors = new Float32Array(positions.length * dim); // (n, dim) of the tissue cells
    positions.forEach((p, r) => vectors.set(feats.subarray(p * dim, (p + 1) * dim), r * dim));
    await index.append({ image: id, gridWidth: grid, gridHeight: grid, positions, vectors });
    set.images.push({
      imageId: id,
      store: relative(project.dir, storeDir),
      gridWidth: grid,
      gridHeight: grid,
      complete: true,
      indexedRows: positions.length,
      tissuePatches: positions.length,
    });
  }
  await project.update((p) => p.upsertFeatureSet(set));
  return set;
}

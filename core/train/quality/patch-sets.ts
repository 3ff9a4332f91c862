// Patch-level retrieval sets over quality mosaics (core/train/health/retrieval.ts RetrievalSet): one row per
// patch cell of every image, labelled with its region, from three feature sources —
//   backbone: the ViT's final-norm patch tokens, extracted tile by tile (tiles of the training crop size, so
//             the model sees the token count it was trained on) through core/features/extract's TileModel;
//   pixels:   the cell's own pixels flattened (p·p·3, ImageNet-normalised like the model's input);
//   stats:    the cell's per-channel mean and standard deviation (6 values).
import { normalizeInto } from '../../data/train/augment/normalize.js';
import { TileModel } from '../../features/extract/model.js';
import type { HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import type { RetrievalSet } from '../health/retrieval.js';
import { type QualityMosaicSpec, mosaicPixels, regionAt } from './textures.js';

/** Labels, image and grid position of every cell (row order: image, gy, gx). */
function layout(spec: QualityMosaicSpec, images: readonly number[], cell: number): Omit<RetrievalSet, 'features' | 'd'> {
  const grid = spec.side / cell;
  const n = images.length * grid * grid;
  const set = { n, labels: new Int32Array(n), image: new Int32Array(n), gx: new Int32Array(n), gy: new Int32Array(n) };
  let r = 0;
  images.forEach((img, k) => {
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++, r++) {
        set.labels[r] = regionAt(spec, img, gx * cell + cell / 2, gy * cell + cell / 2);
        set.image[r] = k;
        set.gx[r] = gx;
        set.gy[r] = gy;
      }
    }
  });
  return set;
}

/** (3, side, side) float image in [0, 1] from interleaved RGB. */
function chw(rgb: Uint8Array, side: number): Float32Array {
  const out = new Float32Array(3 * side * side); // (3, h, w)
  for (let i = 0; i < side * side; i++) for (let c = 0; c < 3; c++) out[c * side * side + i] = rgb[3 * i + c] / 255;
  return out;
}

/** Raw-pixel sets: `pixels` (cell pixels flattened, normalised) and `stats` (per-channel mean and std). */
export function pixelSets(spec: QualityMosaicSpec, images: readonly number[], cell: number): { pixels: RetrievalSet; stats: RetrievalSet } {
  const base = layout(spec, images, cell);
  const { side } = spec;
  const grid = side / cell;
  const dp = 3 * cell * cell;
  const pixels = new Float32Array(base.n * dp); // (n, 3·cell·cell)
  const stats = new Float32Array(base.n * 6); // (n, mean rgb + std rgb)
  images.forEach((img, k) => {
    const norm = new Float32Array(3 * side * side); // (3, h, w) normalised
    normalizeInto({ width: side, height: side, data: chw(mosaicPixels(spec, img), side) }, norm);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const r = (k * grid + gy) * grid + gx;
        for (let c = 0; c < 3; c++) {
          let s = 0;
          let s2 = 0;
          for (let y = 0; y < cell; y++) {
            for (let x = 0; x < cell; x++) {
              const v = norm[c * side * side + (gy * cell + y) * side + gx * cell + x];
              pixels[r * dp + (c * cell + y) * cell + x] = v;
              s += v;
              s2 += v * v;
            }
          }
          const m = s / (cell * cell);
          stats[r * 6 + c] = m;
          stats[r * 6 + 3 + c] = Math.sqrt(Math.max(0, s2 / (cell * cell) - m * m));
        }
      }
    }
  });
  return { pixels: { ...base, features: pixels, d: dp }, stats: { ...base, features: stats, d: 6 } };
}

/**
 * Backbone patch tokens of every cell (cell = the patch size), extracted over `tile`-px tiles of each image.
 * `weights`: the backbone in PyTorch layout by canonical name (Trainer.teacherBackbone()).
 */
export async function backboneSet(
  spec: QualityMosaicSpec,
  images: readonly number[],
  vit: ViTConfig,
  weights: ReadonlyMap<string, HostTensor>,
  tile: number,
  threads?: number,
): Promise<RetrievalSet> {
  const { side } = spec;
  const p = vit.patchSize;
  if (side % tile || tile % p) throw new RangeError(`backboneSet: image side ${side} must divide into ${tile}-px tiles of ${p}-px patches`);
  const base = layout(spec, images, p);
  const tilesPerSide = side / tile;
  const t = tile / p; // tokens per tile side
  const grid = side / p;
  const d = vit.dim;
  const model = await TileModel.create(vit, Object.fromEntries(weights), {
    batch: tilesPerSide * tilesPerSide,
    side: tile,
    outputs: ['patches'],
    threads,
  });
  const features = new Float32Array(base.n * d); // (n, d)
  try {
    for (const [k, img] of images.entries()) {
      const norm = new Float32Array(3 * side * side); // (3, h, w) normalised
      normalizeInto({ width: side, height: side, data: chw(mosaicPixels(spec, img), side) }, norm);
      const batch = new Float32Array(tilesPerSide * tilesPerSide * 3 * tile * tile); // (tiles, 3, tile, tile)
      for (let ty = 0; ty < tilesPerSide; ty++) {
        for (let tx = 0; tx < tilesPerSide; tx++) {
          const o = (ty * tilesPerSide + tx) * 3 * tile * tile;
          for (let c = 0; c < 3; c++)
            for (let y = 0; y < tile; y++)
              batch.set(
                norm.subarray(
                  c * side * side + (ty * tile + y) * side + tx * tile,
                  c * side * side + (ty * tile + y) * side + (tx + 1) * tile,
                ),
                o + (c * tile + y) * tile,
              );
        }
      }
      const { patches } = await model.run(batch); // (tiles, t·t, d)
      for (let ty = 0; ty < tilesPerSide; ty++) {
        for (let tx = 0; tx < tilesPerSide; tx++) {
          for (let j = 0; j < t * t; j++) {
            const gy = ty * t + Math.floor(j / t);
            const gx = tx * t + (j % t);
            const src = ((ty * tilesPerSide + tx) * t * t + j) * d;
            features.set(patches.subarray(src, src + d), ((k * grid + gy) * grid + gx) * d);
          }
        }
      }
    }
  } finally {
    await model.release();
  }
  return { ...base, features, d };
}

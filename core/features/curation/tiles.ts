// Candidate training tiles of a feature set and their embeddings: each image's patch grid cut into
// non-overlapping blocks of `tilePatches` × `tilePatches` patches; a block is a candidate when at least half
// its patches are tissue (the store's mask where it has one, else non-zero features); its embedding is the
// unit mean of its patches' features. Reusing the extracted features costs no forward pass: the features
// already say what each region looks like to the model.
import { resolve } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import type { Project } from '../../project/project.js';
import type { StoredFeatureSet } from '../../project/schema.js';
import { openFeatureStore } from '../store/reader.js';

/** One candidate tile, in level-0 pixels of its image. */
export interface TileRef {
  imageId: string;
  x: number;
  y: number;
  /** Side in level-0 pixels (tilePatches × the store's stride). */
  size: number;
}

export interface TileEmbeddings {
  tiles: TileRef[];
  /** tiles.length × dim, unit rows. */
  embeddings: Float32Array;
  dim: number;
  /** The image index (into `images`) of each tile. */
  imageOf: Int32Array;
  images: string[];
}

export async function tileEmbeddings(
  project: Project,
  set: StoredFeatureSet,
  tilePatches: number,
  log: (line: string) => void = () => {},
): Promise<TileEmbeddings> {
  const T = tilePatches;
  const tiles: TileRef[] = [];
  const rows: Float32Array[] = [];
  const imageOf: number[] = [];
  const images: string[] = [];
  const dim = set.dim;
  for (const e of set.images) {
    if (!e.complete) {
      log(`curation: image ${e.imageId} has incomplete features; left out (finish its extraction first).`);
      continue;
    }
    const store = await openFeatureStore(resolve(project.dir, e.store));
    const m = store.manifest;
    const mask = await store.mask();
    const ii = images.push(e.imageId) - 1;
    for (let by = 0; by + T <= m.gridHeight; by += T) {
      for (let bx = 0; bx + T <= m.gridWidth; bx += T) {
        const f = await store.readRect(bx, by, T, T); // (T, T, dim)
        const mean = new Float32Array(dim);
        let tissue = 0;
        for (let p = 0; p < T * T; p++) {
          const gx = bx + (p % T);
          const gy = by + Math.floor(p / T);
          const o = p * dim;
          const on = mask ? mask[gy * m.gridWidth + gx] === 1 : f.subarray(o, o + dim).some((v) => v !== 0);
          if (!on) continue;
          tissue++;
          for (let k = 0; k < dim; k++) mean[k] += f[o + k];
        }
        if (tissue * 2 < T * T) continue;
        let norm = 0;
        for (let k = 0; k < dim; k++) norm += mean[k] * mean[k];
        if (!(norm > 0)) continue;
        const inv = 1 / Math.sqrt(norm);
        for (let k = 0; k < dim; k++) mean[k] *= inv;
        rows.push(mean);
        imageOf.push(ii);
        tiles.push({ imageId: e.imageId, x: m.origin.x + bx * m.stride, y: m.origin.y + by * m.stride, size: T * m.stride });
      }
    }
  }
  if (!tiles.length)
    throw new DinoscopeError(
      'BAD_INPUT',
      `feature set ${set.id} has no tile of ${T} × ${T} patches that is mostly tissue: use a smaller --tile-patches or extract more images.`,
    );
  const embeddings = new Float32Array(tiles.length * dim);
  rows.forEach((r, i) => embeddings.set(r, i * dim));
  return { tiles, embeddings, dim, imageOf: Int32Array.from(imageOf), images };
}

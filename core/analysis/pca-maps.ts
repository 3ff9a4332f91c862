// PCA maps of a collection (the DINOv2 recipe in core/features/pca.ts): one basis fitted on a sample of
// indexed (tissue) patches from every image, first component oriented and (unless the threshold is null: the
// tissue mask already chose the foreground) thresholded into foreground, a second PCA on the sample's foreground whose first three components become RGB through fixed ranges,
// so a colour means the same on every image.
import {
  fitPca,
  foreground,
  foregroundPca,
  orientForeground,
  project,
  rgbRanges,
  toRgb,
  type PcaModel,
  type RgbRanges,
} from '../features/pca.js';
import { mulberry32 as rng } from '../common/random.js';
import { sampleIndices } from '../features/random.js';
import { DinoscopeError } from '../common/errors.js';
import type { StoredFeatureSet } from '../project/schema.js';
import type { FeatureCollection, GridImage } from './collection.js';
import { pcaInThread } from './fit-thread.js';
import { smoothAt } from './smoothing.js';
import { nextTurn, ROWS_PER_TURN } from './turns.js';

export const PCA_SAMPLE = 8000;

/**
 * The PCA foreground of a set when the caller names none: a set extracted with a tissue mask indexes only
 * tissue patches, so the mask is the foreground and the first component is not thresholded (null). The
 * DINOv2 recipe's threshold at 0 assumes the first component separates object from background, which holds
 * for a well-trained model on images with background; on a masked set it splits tissue types instead and
 * hid half the tissue (on the demo after its 3 minutes: tumour and lymphoid regions blank). A set extracted
 * with the mask off keeps the recipe (0).
 */
export function pcaDefaultThreshold(set: Pick<StoredFeatureSet, 'mask'>): number | null {
  return (set.mask ?? 'auto') === 'off' ? 0 : null;
}

export interface PcaFit {
  /** The basis whose first component is thresholded into foreground; null without a threshold (nothing
   * to threshold: it is neither fitted nor projected). */
  base: PcaModel | null;
  fg: PcaModel;
  ranges: RgbRanges;
  /** Foreground: first component above this; null: every indexed patch (the tissue mask is the foreground). */
  threshold: number | null;
  samples: number;
  /** Neighbour smoothing (σ in patches, 0: none) of the rows it was fitted on; its maps use the same. */
  smoothing: number;
}

/** Up to `m` indexed rows of the collection as unit vectors (m, dim), seeded; with `smoothing` > 0 each
 * row is its neighbour-smoothed vector (smoothing.ts, σ in patches). Other calls are answered between
 * pieces of the copy (turns.ts). */
export async function sampleRows(fc: FeatureCollection, m: number, seed = 1, smoothing = 0): Promise<Float32Array> {
  const d = fc.index.dim;
  const idx = sampleIndices(fc.index.size, m, rng(seed));
  const out = new Float32Array(idx.length * d); // (m, dim)
  if (smoothing > 0) {
    await smoothedRows(fc, idx, smoothing, out);
    return out;
  }
  for (let i = 0; i < idx.length; i++) {
    fc.index.vector(idx[i], out.subarray(i * d, (i + 1) * d));
    if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
  }
  return out;
}

/** The neighbour-smoothed vectors of index rows `rows` into `out` (rows.length, dim), read from each row's
 * image through the index (its grid lookup), so only the rows around the sample are read. */
async function smoothedRows(fc: FeatureCollection, rows: ArrayLike<number>, sigma: number, out: Float32Array): Promise<void> {
  const d = fc.index.dim;
  const owners = [...fc.images.values()].flatMap((g) =>
    (fc.index.image(g.id)?.ranges ?? []).map(([start, count]) => ({ start, count, g })),
  );
  owners.sort((a, b) => a.start - b.start);
  const ownerOf = (row: number): GridImage | undefined => {
    let lo = 0;
    let hi = owners.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = owners[mid];
      if (row < o.start) hi = mid - 1;
      else if (row >= o.start + o.count) lo = mid + 1;
      else return o.g;
    }
    return undefined;
  };
  for (let i = 0; i < rows.length; i++) {
    const g = ownerOf(rows[i]);
    const dst = out.subarray(i * d, (i + 1) * d);
    if (!g) {
      fc.index.vector(rows[i], dst); // a row of an image outside the collection's grids: unsmoothed
      continue;
    }
    const lookup = fc.index.lookup(g.id);
    const at = Uint32Array.of(fc.index.positionOf[rows[i]]);
    smoothAt(at, g.gridWidth, g.gridHeight, d, sigma, (p, v) => lookup[p] >= 0 && (fc.index.vector(lookup[p], v), true), dst);
    if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
  }
}

/** The collection's PCA fit (fitSamplePca on a sample of its rows); the fit runs in the fit thread
 * (fit-thread.ts), so the calling thread answers other calls meanwhile. */
export async function fitCollectionPca(fc: FeatureCollection, threshold: number | null, base?: PcaModel, smoothing = 0): Promise<PcaFit> {
  const fit = await pcaInThread(await sampleRows(fc, PCA_SAMPLE, 1, smoothing), fc.index.dim, threshold, base);
  return { ...fit, smoothing };
}

/** The fit of fitCollectionPca on its sample `data` (n, d): pure arithmetic, run in the fit thread. Without
 * a threshold every row is foreground, so the base basis (`base`, or one fitted here) is not needed and
 * the foreground PCA is fitted on all rows directly. */
export function fitSamplePca(data: Float32Array, d: number, threshold: number | null, base?: PcaModel): PcaFit {
  const n = data.length / d;
  if (n < 4) throw new DinoscopeError('BAD_INPUT', `PCA needs at least 4 indexed patches, the collection has ${n}.`);
  if (threshold === null) {
    const fg = fitPca(data, n, d, 3);
    return { base: null, fg, ranges: rgbRanges(project(fg, data, n), n, 3), threshold, samples: n, smoothing: 0 };
  }
  const model = base ?? fitPca(data, n, d, 3);
  const proj = project(model, data, n); // (n, 3)
  if (!base) orientForeground(model, proj, n);
  const fgMask = foreground(proj, n, 3, threshold);
  const fgCount = fgMask.reduce((s, v) => s + v, 0);
  if (fgCount < 4) throw new DinoscopeError('BAD_INPUT', `Foreground threshold ${threshold} leaves ${fgCount} sampled patches: lower it.`);
  const fg = foregroundPca(data, n, d, fgMask, 3);
  const fgProj = project(fg, data, n); // (n, 3)
  const sub = new Float32Array(fgCount * 3); // (fgCount, 3) foreground rows only
  for (let r = 0, i = 0; r < n; r++) if (fgMask[r]) sub.set(fgProj.subarray(r * 3, r * 3 + 3), 3 * i++);
  return { base: model, fg, ranges: rgbRanges(sub, fgCount, 3), threshold, samples: n, smoothing: 0 };
}

/** (gridHeight, gridWidth, 4) RGBA of one image: foreground PCA colours, transparent on background. */
export async function pcaImageRgba(fc: FeatureCollection, fit: PcaFit, imageId: string): Promise<Uint8Array> {
  const g = fc.image(imageId);
  const { vectors, positions } = await fc.mapRows(imageId, fit.smoothing);
  const n = positions.length;
  // Without a base (no threshold) every indexed patch is foreground.
  const mask = fit.base ? foreground(project(fit.base, vectors, n), n, 3, fit.threshold) : new Uint8Array(n).fill(1);
  const p2 = project(fit.fg, vectors, n); // (n, 3)
  const rgb = toRgb(p2, n, 3, fit.ranges, mask); // (n, 3)
  const out = new Uint8Array(g.gridWidth * g.gridHeight * 4);
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const o = positions[i] * 4;
    out[o] = rgb[3 * i];
    out[o + 1] = rgb[3 * i + 1];
    out[o + 2] = rgb[3 * i + 2];
    out[o + 3] = 255;
  }
  return out;
}

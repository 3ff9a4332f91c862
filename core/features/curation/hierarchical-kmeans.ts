// Hierarchical k-means (Vo et al., "Automatic Data Curation for Self-Supervised Learning: A Clustering-Based
// Approach", 2024; facebookresearch/ssl-data-curation): level 1 clusters the data, level l clusters the
// centroids of level l − 1. Clusters at the top are then about concepts rather than about how often a concept
// occurs, which is what balanced sampling (sampling.ts) needs: a collection that is 90 % one tissue has many
// level-1 clusters of that tissue, but they merge into few top-level ones. Spherical (cosine), as the
// embeddings are unit vectors. Deviation: no resampling steps (the paper's refinement for web-scale data;
// its own launcher skips them in the first level for efficiency too).
import { DinoscopeError } from '../../common/errors.js';
import { assign, kmeans } from '../kmeans.js';

export interface HierarchicalClusters {
  /** Clusters per level, bottom first (level 1 clusters the rows). */
  ks: number[];
  /** Per level, the parent cluster of each item of the level below: rows for level 1, else clusters of l − 1. */
  assignments: Int32Array[];
}

/** Fits the levels `ks` (bottom first, each smaller than the one below) to the n unit rows of `data`. */
export function hierarchicalKMeans(data: Float32Array, n: number, d: number, ks: readonly number[], seed = 0): HierarchicalClusters {
  if (!ks.length) throw new DinoscopeError('BAD_INPUT', 'hierarchical k-means needs at least one level.');
  const out: HierarchicalClusters = { ks: [], assignments: [] };
  let x = data;
  let m = n;
  for (const [l, want] of ks.entries()) {
    const k = Math.max(1, Math.min(want, m));
    const big = m > 20_000;
    // Upper levels cluster a few hundred centroids: ten k-means++ starts, the lowest inertia kept, cost
    // nothing and stop one unlucky start from merging small distinct concepts into one top cluster.
    const restarts = l > 0 && m <= 20_000 ? 10 : 1;
    const model = kmeans(x, m, d, {
      k,
      spherical: true,
      seed: seed + 100 * l,
      restarts,
      iterations: big ? 200 : 25,
      ...(big ? { batchSize: 4096 } : {}),
    });
    out.ks.push(k);
    out.assignments.push(assign(model, x, m));
    x = model.centroids;
    m = k;
  }
  return out;
}

/** The top-level cluster of every row. */
export function topClusters(h: HierarchicalClusters, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let c = r;
    for (const a of h.assignments) c = a[c];
    out[r] = c;
  }
  return out;
}

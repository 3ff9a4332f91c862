// Curated sampling weights: every distinct tile stays in the list, each with a probability of being drawn, so
// rare tissue is seen more often and the common tissue is not thrown away (DINOv2's balanced sampling across
// clusters, in expectation over draws, rather than a fixed subset: sampling.ts). Down the hierarchy every
// cluster gets an equal share of its parent's probability (the top clusters 1/K each, a top cluster's share
// split equally over its sub-clusters, and so on), and a level-1 cluster's share is split equally over its
// tiles: a tile's probability is ∝ 1 / its cluster's size at every level. Then no image gets more than
// `perImageCap` of the total: the excess of the images over it is handed to the others in proportion to
// their weights, until none is over (water-filling; with fewer than 1 / cap images, every image gets an
// equal share).
import type { HierarchicalClusters } from './hierarchical-kmeans.js';

/** Per row of the n rows clustered by `h`: its probability of being drawn (they sum to 1). */
export function clusterWeights(h: HierarchicalClusters, n: number, o: { imageOf?: Int32Array; perImageCap?: number } = {}): Float64Array {
  const L = h.ks.length;
  // parent[l][i]: the cluster of level l + 1 holding item i of level l (rows at l = 0).
  // children count of every cluster of every level.
  const childCount = h.assignments.map((a, l) => {
    const c = new Int32Array(h.ks[l]);
    for (const p of a) c[p]++;
    return c;
  });
  // Share of each cluster, top level first: 1/K_top each, then each cluster's share over its children.
  let share = new Float64Array(h.ks[L - 1]).fill(1 / h.ks[L - 1]); // (K_top,)
  for (let l = L - 1; l >= 1; l--) {
    const below = new Float64Array(h.ks[l - 1]); // clusters of level l (index l − 1)
    h.assignments[l].forEach((p, c) => (below[c] = share[p] / childCount[l][p]));
    share = below;
  }
  const w = new Float64Array(n); // (n,) rows
  h.assignments[0].forEach((p, r) => (w[r] = share[p] / childCount[0][p]));
  if (o.imageOf && o.perImageCap !== undefined && o.perImageCap < 1) capPerImage(w, o.imageOf, o.perImageCap);
  return w;
}

/** Scales `w` (summing to 1) so that no image's rows sum to more than `cap`, moving the excess to the others. */
function capPerImage(w: Float64Array, imageOf: Int32Array, cap: number): void {
  // A loop, not Math.max(...imageOf): a spread of 10^5 rows or more overflows the call stack.
  const images = imageOf.reduce((m, i) => Math.max(m, i), -1) + 1;
  const present = new Set(imageOf).size;
  const limit = Math.max(cap, 1 / present); // a cap no split can meet: equal shares
  const capped = new Uint8Array(images);
  for (let round = 0; round < images; round++) {
    const total = new Float64Array(images);
    w.forEach((x, r) => (total[imageOf[r]] += x));
    const over = [...total.keys()].filter((i) => !capped[i] && total[i] > limit + 1e-12);
    if (!over.length) return;
    for (const i of over) capped[i] = 1;
    // Capped images hold `limit` each; the rest share what is left in proportion to their weights.
    let cappedN = 0;
    let free = 0;
    for (let i = 0; i < images; i++) {
      if (capped[i]) cappedN++;
      else free += total[i];
    }
    const left = 1 - cappedN * limit;
    w.forEach((x, r) => {
      const i = imageOf[r];
      w[r] = capped[i] ? (x * limit) / total[i] : free > 0 ? (x * left) / free : x;
    });
  }
}

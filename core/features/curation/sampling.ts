// Balanced hierarchical sampling (Vo et al. 2024, facebookresearch/ssl-data-curation's
// hierarchical_sampling.py): the target is split over the top-level clusters as evenly as their sizes allow
// — the largest x with Σ min(x, size) ≤ target, the remainder one each to randomly chosen clusters larger
// than x ("best cut") — then the same inside each cluster over its sub-clusters, down to level 1, where the
// rows are drawn at random. A concept that fills 90 % of a collection then gets about the share of any other.
// Added for slides: at most `perImageCap` of the result from one image, and within a level-1 cluster the
// rows are drawn round-robin over images, so no slide dominates a cluster's share either.
import { mulberry32 as rng } from '../../common/random.js';
import type { HierarchicalClusters } from './hierarchical-kmeans.js';

export interface SamplingOptions {
  /** Rows to pick (fewer when the data has fewer). */
  target: number;
  /** The image of each row (for the cap and the round-robin). */
  imageOf?: Int32Array;
  /** At most this fraction of the result from one image (0 < cap ≤ 1; default 1). */
  perImageCap?: number;
  seed?: number;
}

/** The largest x with Σ min(x, sizes) ≤ target, and per item min(x, size) plus the remainder one each. */
export function bestCut(sizes: readonly number[], target: number, u: () => number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= target) return [...sizes];
  let lo = 0;
  let hi = sizes.reduce((m, s) => Math.max(m, s), 0);
  const fill = (x: number): number => sizes.reduce((a, s) => a + Math.min(x, s), 0);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fill(mid) <= target) lo = mid;
    else hi = mid;
  }
  const x = fill(hi) <= target ? hi : lo;
  const out = sizes.map((s) => Math.min(x, s));
  let remainder = target - out.reduce((a, b) => a + b, 0);
  const larger = sizes.map((s, i) => (s > x ? i : -1)).filter((i) => i >= 0);
  // A seeded shuffle of the clusters that still have room; the first `remainder` get one more.
  for (let i = larger.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [larger[i], larger[j]] = [larger[j], larger[i]];
  }
  for (const i of larger) {
    if (remainder <= 0) break;
    out[i]++;
    remainder--;
  }
  return out;
}

/** Rows of a level-1 cluster in draw order: round-robin over their images, shuffled within each image. */
function drawOrder(rows: number[], imageOf: Int32Array | undefined, u: () => number): number[] {
  const byImage = new Map<number, number[]>();
  for (const r of rows) {
    const im = imageOf ? imageOf[r] : 0;
    let list = byImage.get(im);
    if (!list) byImage.set(im, (list = []));
    list.push(r);
  }
  const lists = [...byImage.values()];
  for (const l of lists)
    for (let i = l.length - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [l[i], l[j]] = [l[j], l[i]];
    }
  const out: number[] = [];
  for (let i = 0; out.length < rows.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/**
 * Picks `target` of the n rows clustered by `h`, balanced over the hierarchy; returns row indices (the
 * order of the clusters, not sorted).
 */
export function balancedSample(h: HierarchicalClusters, n: number, o: SamplingOptions): number[] {
  const u = rng(o.seed ?? 0);
  const L = h.ks.length;
  // children[l][c]: the items of level l (rows for l = 0, else clusters of level l) in cluster c of level l + 1.
  const children: number[][][] = h.assignments.map((a, l) => {
    const lists: number[][] = Array.from({ length: h.ks[l] }, () => []);
    a.forEach((c, i) => lists[c].push(i));
    return lists;
  });
  // Rows under each cluster of each level.
  const rowsUnder: number[][] = [children[0].map((c) => c.length)];
  for (let l = 1; l < L; l++) rowsUnder.push(children[l].map((c) => c.reduce((a, s) => a + rowsUnder[l - 1][s], 0)));

  const capCount = o.perImageCap !== undefined && o.imageOf ? Math.max(1, Math.ceil(o.perImageCap * Math.min(o.target, n))) : Infinity;
  const perImage = new Map<number, number>();
  const picked: number[] = [];
  const used = new Uint8Array(n);
  const take = (r: number): boolean => {
    if (used[r]) return false;
    const im = o.imageOf ? o.imageOf[r] : 0;
    const c = perImage.get(im) ?? 0;
    if (c >= capCount) return false;
    perImage.set(im, c + 1);
    used[r] = 1;
    picked.push(r);
    return true;
  };
  // Descends from cluster c of level l (1-based: level L is the top) with `want` rows; returns the rows it
  // could not place (the per-image cap), which the caller's later clusters make up.
  const descend = (l: number, c: number, want: number): number => {
    if (want <= 0) return 0;
    if (l === 1) {
      let placed = 0;
      for (const r of drawOrder(children[0][c], o.imageOf, u)) {
        if (placed >= want) break;
        if (take(r)) placed++;
      }
      return want - placed;
    }
    const subs = children[l - 1][c];
    const shares = bestCut(
      subs.map((s) => rowsUnder[l - 2][s]),
      want,
      u,
    );
    let short = 0;
    subs.forEach((s, i) => (short += descend(l - 1, s, shares[i])));
    return short;
  };
  const K = h.ks[L - 1];
  const want = Math.min(o.target, n);
  const shares = bestCut(
    Array.from({ length: K }, (_, c) => rowsUnder[L - 1][c]),
    want,
    u,
  );
  for (let c = 0; c < K; c++) descend(L, c, shares[c]);
  if (picked.length < want) fillUp(h, n, want, picked, take, o.imageOf, u);
  return picked;
}

/**
 * What the per-image cap left unplaced: one row at a time from the top-level cluster with the fewest
 * picked so far that still has a row the cap allows, until the target is met or no row is allowed.
 */
function fillUp(
  h: HierarchicalClusters,
  n: number,
  want: number,
  picked: number[],
  take: (r: number) => boolean,
  imageOf: Int32Array | undefined,
  u: () => number,
): void {
  const K = h.ks[h.ks.length - 1];
  const top = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let c = r;
    for (const a of h.assignments) c = a[c];
    top[r] = c;
  }
  const count = new Array<number>(K).fill(0);
  for (const r of picked) count[top[r]]++;
  const rows: number[][] = Array.from({ length: K }, () => []);
  for (let r = 0; r < n; r++) rows[top[r]].push(r);
  const queues = rows.map((l) => drawOrder(l, imageOf, u));
  const next = new Array<number>(K).fill(0);
  const open = new Set(Array.from({ length: K }, (_, c) => c));
  while (picked.length < want && open.size) {
    let c = -1;
    for (const k of open) if (c < 0 || count[k] < count[c]) c = k;
    let placed = false;
    while (next[c] < queues[c].length && !placed) placed = take(queues[c][next[c]++]);
    if (placed) count[c]++;
    else open.delete(c);
  }
}

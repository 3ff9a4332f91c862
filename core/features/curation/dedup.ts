// Near-duplicate removal on unit embeddings, as SemDeDup does (Abbas et al., "SemDeDup: Data-efficient
// learning at web-scale through semantic deduplication", 2023): k-means first, then pairwise cosine only
// inside each cluster, so the cost is about n²/c instead of n² and it scales to millions of tiles. Every
// pair above `threshold` joins one group (union–find); each group keeps its first member (the lowest
// index: deterministic). A row also probes its second-nearest cluster, so a duplicate pair split by a
// cluster border is still found. Exact duplicates have cosine 1 and are always removed.
import { assign, kmeans } from '../kmeans.js';
import { dot } from '../linalg.js';

export interface DedupOptions {
  /** Cosine similarity at or above which two tiles are duplicates (e.g. 0.98). */
  threshold: number;
  /** Clusters to compare within (default ≈ √n: each row then meets about 2√n others). */
  clusters?: number;
  seed?: number;
}

export interface DedupResult {
  /** Indices of the rows kept, ascending. */
  kept: Int32Array;
  /** For every row, the row its group keeps (itself when kept). */
  representative: Int32Array;
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  // The smaller index is the root, so each group's representative is its first row.
  if (ra < rb) parent[rb] = ra;
  else if (rb < ra) parent[ra] = rb;
}

/** The second-nearest centroid of each row (−1 with a single cluster). */
function secondNearest(centroids: Float32Array, k: number, data: Float32Array, n: number, d: number, first: Int32Array): Int32Array {
  const out = new Int32Array(n).fill(-1);
  if (k < 2) return out;
  for (let r = 0; r < n; r++) {
    let best = -1;
    let bestV = -Infinity;
    for (let c = 0; c < k; c++) {
      if (c === first[r]) continue;
      const v = dot(data, r * d, centroids, c * d, d);
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Near-duplicates among the n unit rows of `data` (n × d). */
export function dedup(data: Float32Array, n: number, d: number, o: DedupOptions): DedupResult {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  if (n > 1) {
    const k = Math.max(1, Math.min(n, o.clusters ?? Math.round(Math.sqrt(n))));
    const model = kmeans(data, n, d, { k, spherical: true, seed: o.seed ?? 0, iterations: 10, ...(n > 20_000 ? { batchSize: 4096 } : {}) });
    const first = assign(model, data, n);
    const second = secondNearest(model.centroids, k, data, n, d, first);
    const members: number[][] = Array.from({ length: k }, () => []);
    for (let r = 0; r < n; r++) members[first[r]].push(r);
    for (let r = 0; r < n; r++) {
      for (const c of second[r] >= 0 ? [first[r], second[r]] : [first[r]]) {
        for (const s of members[c]) {
          if (s <= r && c === first[r]) continue; // each pair of one cluster once
          if (s === r) continue;
          if (dot(data, r * d, data, s * d, d) >= o.threshold) union(parent, r, s);
        }
      }
    }
  }
  const representative = new Int32Array(n);
  const kept: number[] = [];
  for (let r = 0; r < n; r++) {
    representative[r] = find(parent, r);
    if (representative[r] === r) kept.push(r);
  }
  return { kept: Int32Array.from(kept), representative };
}

// Same-region retrieval precision@k: the quality measure of the pretraining-quality and adaptation tests. For each
// query patch, its k most cosine-similar patches among all others (any image), excluding the query and
// the patches of the same image within `exclusionRadius` grid cells of it (so a feature cannot score by
// matching its immediate neighbours, which share pixels); precision = share of those k whose region label
// equals the query's. Brute force, float64 accumulation; fine for the few thousand patches of a test.

type Floats = Float32Array | Float64Array;

export interface RetrievalSet {
  /** (n, d) row-major features. */
  features: Floats;
  n: number;
  d: number;
  /** Region label per row; negative = unlabelled (never a query, never a hit). */
  labels: Int32Array;
  /** Image index per row. */
  image: Int32Array;
  /** Grid position per row (for the exclusion radius). */
  gx: Int32Array;
  gy: Int32Array;
}

export interface RetrievalOptions {
  k: number;
  /** Same-image neighbours within this Chebyshev radius are skipped (default 1). */
  exclusionRadius?: number;
  /** Query rows (default: every labelled row). */
  queries?: Int32Array;
}

/** Mean precision@k over the queries. */
export function retrievalPrecision(set: RetrievalSet, opts: RetrievalOptions): number {
  const { n, d, features, labels, image, gx, gy } = set;
  const k = opts.k;
  const r = opts.exclusionRadius ?? 1;
  if (features.length !== n * d) throw new RangeError(`retrievalPrecision: ${features.length} values are not (${n}, ${d})`);
  const unit = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += features[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) unit[i * d + j] = features[i * d + j] * inv;
  }
  const queries = opts.queries ?? Int32Array.from({ length: n }, (_, i) => i).filter((i) => labels[i] >= 0);
  if (queries.length === 0) return NaN;
  const sims = new Float64Array(n);
  const order = new Int32Array(n);
  let total = 0;
  for (const q of queries) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (i === q || labels[i] < 0) continue;
      if (image[i] === image[q] && Math.abs(gx[i] - gx[q]) <= r && Math.abs(gy[i] - gy[q]) <= r) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += unit[q * d + j] * unit[i * d + j];
      sims[i] = s;
      order[m++] = i;
    }
    const top = Array.from(order.subarray(0, m))
      .sort((a, b) => sims[b] - sims[a] || a - b)
      .slice(0, k);
    let hits = 0;
    for (const i of top) if (labels[i] === labels[q]) hits++;
    total += top.length ? hits / top.length : 0;
  }
  return total / queries.length;
}

// k-means for patch features: k-means++ initialisation (Arthur & Vassilvitskii 2007), Lloyd iterations or
// mini-batch updates (Sculley 2010) for large samples, Euclidean or spherical (cosine: unit rows and unit
// centroids, nearest = largest dot product). Seeded: the same data and seed give the same clusters.
import { DinoscopeError } from '../common/errors.js';
import { dist2, dot, normalizeRows } from './linalg.js';
import { mulberry32 as rng } from '../common/random.js';

export interface KMeansOptions {
  k: number;
  seed?: number;
  /** Lloyd iterations, or mini-batch steps when batchSize is set (default 25 / 100). */
  iterations?: number;
  /** Cosine k-means on unit-normalised rows (the data is normalised in a copy). */
  spherical?: boolean;
  /** Mini-batch size; full-batch Lloyd when omitted. */
  batchSize?: number;
  /** Independent k-means++ starts (seeds seed, seed+1, …); the fit with the lowest inertia wins (default 1). */
  restarts?: number;
}

export interface KMeansModel {
  k: number;
  dim: number;
  spherical: boolean;
  /** k × dim, row-major. */
  centroids: Float32Array;
}

/** Index of the centroid nearest to row `o` of `data`, and its squared distance (or 1 − cos). */
function nearest(model: KMeansModel, data: Float32Array, o: number): [number, number] {
  const { k, dim: d, centroids: c } = model;
  let best = 0;
  let bestV = Infinity;
  for (let i = 0; i < k; i++) {
    const v = model.spherical ? 1 - dot(data, o, c, i * d, d) : dist2(data, o, c, i * d, d);
    if (v < bestV) {
      bestV = v;
      best = i;
    }
  }
  return [best, bestV];
}

/** The cluster of each of the n rows of `data` (n × dim). Spherical models normalise nothing: pass any
 * scale, the argmax of the dot product does not depend on the row's norm. */
export function assign(model: KMeansModel, data: Float32Array, n: number, out: Int32Array = new Int32Array(n)): Int32Array {
  for (let r = 0; r < n; r++) out[r] = nearest(model, data, r * model.dim)[0];
  return out;
}

function plusPlus(data: Float32Array, n: number, d: number, k: number, spherical: boolean, u: () => number): Float32Array {
  const c = new Float32Array(k * d);
  const best = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(u() * n);
  for (let i = 0; i < k; i++) {
    c.set(data.subarray(pick * d, pick * d + d), i * d);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const v = spherical ? Math.max(0, 1 - dot(data, r * d, c, i * d, d)) : dist2(data, r * d, c, i * d, d);
      if (v < best[r]) best[r] = v;
      total += best[r];
    }
    // D² sampling: the next centre is row r with probability best[r] / total.
    let t = u() * total;
    pick = n - 1;
    for (let r = 0; r < n; r++) {
      t -= best[r];
      if (t < 0) {
        pick = r;
        break;
      }
    }
  }
  return c;
}

/** Fit k centroids to the n rows of `data` (n × d). */
export function kmeans(data: Float32Array, n: number, d: number, opts: KMeansOptions): KMeansModel {
  const { k, spherical = false } = opts;
  if (!(k >= 1 && k <= n)) throw new DinoscopeError('BAD_INPUT', `k-means: k = ${k} must be between 1 and the ${n} samples.`);
  const x = spherical ? normalizeRows(Float32Array.from(data.subarray(0, n * d)), n, d) : data;
  let best: KMeansModel | null = null;
  let bestI = Infinity;
  for (let s = 0; s < Math.max(1, opts.restarts ?? 1); s++) {
    const m = fitOnce(x, n, d, { ...opts, seed: (opts.seed ?? 0) + s });
    const i = (opts.restarts ?? 1) > 1 ? inertia(m, x, n) : 0;
    if (!best || i < bestI) {
      best = m;
      bestI = i;
    }
  }
  return best as KMeansModel;
}

function fitOnce(x: Float32Array, n: number, d: number, opts: KMeansOptions): KMeansModel {
  const { k, spherical = false } = opts;
  const u = rng(opts.seed ?? 0);
  const model: KMeansModel = { k, dim: d, spherical, centroids: plusPlus(x, n, d, k, spherical, u) };
  const c = model.centroids;
  if (opts.batchSize) {
    const counts = new Float64Array(k);
    const b = Math.min(opts.batchSize, n);
    const idx = new Int32Array(b);
    const lab = new Int32Array(b);
    for (let it = 0; it < (opts.iterations ?? 100); it++) {
      for (let i = 0; i < b; i++) {
        idx[i] = Math.floor(u() * n);
        lab[i] = nearest(model, x, idx[i] * d)[0];
      }
      // Per-centre learning rate 1 / count: c ← c + (x − c) / count.
      for (let i = 0; i < b; i++) {
        const j = lab[i];
        const eta = 1 / ++counts[j];
        const o = idx[i] * d;
        for (let t = 0; t < d; t++) c[j * d + t] += eta * (x[o + t] - c[j * d + t]);
      }
      if (spherical) normalizeRows(c, k, d);
    }
    return model;
  }
  const labels = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let it = 0; it < (opts.iterations ?? 25); it++) {
    let changed = 0;
    for (let r = 0; r < n; r++) {
      const j = nearest(model, x, r * d)[0];
      if (j !== labels[r]) changed++;
      labels[r] = j;
    }
    sums.fill(0);
    counts.fill(0);
    for (let r = 0; r < n; r++) {
      const j = labels[r];
      counts[j]++;
      for (let t = 0; t < d; t++) sums[j * d + t] += x[r * d + t];
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        // An empty cluster takes the row farthest from its centre.
        let far = 0;
        let farV = -1;
        for (let r = 0; r < n; r++) {
          const v = nearest(model, x, r * d)[1];
          if (v > farV) {
            farV = v;
            far = r;
          }
        }
        c.set(x.subarray(far * d, far * d + d), j * d);
        continue;
      }
      for (let t = 0; t < d; t++) c[j * d + t] = sums[j * d + t] / counts[j];
    }
    if (spherical) normalizeRows(c, k, d);
    if (changed === 0) break;
  }
  return model;
}

/** Mean squared distance (or mean 1 − cos) of rows to their nearest centroid. */
export function inertia(model: KMeansModel, data: Float32Array, n: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) s += nearest(model, data, r * model.dim)[1];
  return s / n;
}

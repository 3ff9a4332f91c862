// PCA of patch features, the DINOv2 visualisation recipe (Oquab et al. 2023, Fig. 1; its notebooks):
//  1. fit one PCA on a sample of foreground patches from the whole collection, so every image uses the same
//     basis and a colour means the same thing everywhere;
//  2. the first component separates foreground (tissue / object) from background: threshold it (default 0,
//     adjustable), oriented so that foreground is positive. Where a tissue mask already chose the patches
//     (a whole-slide feature set indexes tissue only), no threshold (null): every patch is foreground;
//  3. fit a second PCA on the foreground patches only and map its first three components to RGB, each
//     through a fixed range (percentiles of the sample), not per image min–max.
import { DinoscopeError } from '../common/errors.js';
import { symmetricEigen } from './eigen.js';

export interface PcaModel {
  dim: number;
  mean: Float32Array;
  /** k × dim, unit rows, descending variance. */
  components: Float32Array;
  variances: Float64Array;
}

/** Fit the top-k principal components of the n rows (n × d) of `data`. */
export function fitPca(data: Float32Array, n: number, d: number, k: number): PcaModel {
  if (n < 2) throw new DinoscopeError('BAD_INPUT', `PCA needs at least 2 samples, got ${n}.`);
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += data[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Covariance (d, d), upper triangle accumulated, float64.
  const cov = new Float64Array(d * d);
  const x = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) x[j] = data[r * d + j] - mean[j];
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const o = i * d;
      for (let j = i; j < d; j++) cov[o + j] += xi * x[j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] /= n - 1;
  const { values, vectors } = symmetricEigen(cov, d);
  const kk = Math.min(k, d);
  const components = new Float32Array(kk * d);
  for (let c = 0; c < kk; c++) {
    // Sign convention: the largest-magnitude coordinate is positive (reproducible across fits).
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(vectors[c * d + j]) > Math.abs(vectors[c * d + big])) big = j;
    const s = vectors[c * d + big] < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) components[c * d + j] = s * vectors[c * d + j];
  }
  return { dim: d, mean: Float32Array.from(mean), components, variances: values.slice(0, kk) };
}

/** Project the n rows onto the model's components: (n, k). */
export function project(model: PcaModel, data: Float32Array, n: number): Float32Array {
  const { dim: d, mean, components } = model;
  const k = components.length / d;
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[r * d + j] - mean[j]) * components[c * d + j];
      out[r * k + c] = s;
    }
  }
  return out;
}

/** Flip component c (and its projections when given) in place. */
export function flipComponent(model: PcaModel, c: number): void {
  const d = model.dim;
  for (let j = 0; j < d; j++) model.components[c * d + j] *= -1;
}

/**
 * Orient the first component so foreground projects positive. With a reference mask (1 = tissue, e.g.
 * Otsu on the thumbnail) the side where the mask's tissue lies is foreground; without one, the smaller side
 * is (in the DINOv2 figures objects cover less of the image than background). `proj` is (n, k).
 */
export function orientForeground(model: PcaModel, proj: Float32Array, n: number, mask?: Uint8Array): void {
  const k = model.components.length / model.dim;
  let flip: boolean;
  if (mask) {
    let fg = 0;
    let bg = 0;
    let nf = 0;
    let nb = 0;
    for (let r = 0; r < n; r++) {
      if (mask[r]) {
        fg += proj[r * k];
        nf++;
      } else {
        bg += proj[r * k];
        nb++;
      }
    }
    flip = nf > 0 && nb > 0 ? fg / nf < bg / nb : false;
  } else {
    let pos = 0;
    for (let r = 0; r < n; r++) if (proj[r * k] > 0) pos++;
    flip = pos > n / 2;
  }
  if (flip) {
    flipComponent(model, 0);
    for (let r = 0; r < n; r++) proj[r * k] *= -1;
  }
}

/** Foreground cells: first component above `threshold` (null: every cell). proj is (n, k). */
export function foreground(proj: Float32Array, n: number, k: number, threshold: number | null = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let r = 0; r < n; r++) out[r] = threshold === null || proj[r * k] > threshold ? 1 : 0;
  return out;
}

/** The second PCA, fitted on the rows where `fg` is 1. */
export function foregroundPca(data: Float32Array, n: number, d: number, fg: Uint8Array, k = 3): PcaModel {
  let m = 0;
  for (let r = 0; r < n; r++) m += fg[r];
  const sub = new Float32Array(m * d); // (m, d) foreground rows
  for (let r = 0, i = 0; r < n; r++) if (fg[r]) sub.set(data.subarray(r * d, r * d + d), d * i++);
  return fitPca(sub, m, d, k);
}

export interface RgbRanges {
  lo: [number, number, number];
  hi: [number, number, number];
}

/** Per-component [lo, hi] as the `p` and `1 − p` quantiles of the first three columns of proj (n, k). */
export function rgbRanges(proj: Float32Array, n: number, k: number, p = 0.01): RgbRanges {
  const lo: [number, number, number] = [0, 0, 0];
  const hi: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const col = new Float32Array(n);
    for (let r = 0; r < n; r++) col[r] = proj[r * k + c];
    col.sort();
    lo[c] = col[Math.floor(p * (n - 1))];
    hi[c] = col[Math.ceil((1 - p) * (n - 1))];
  }
  return { lo, hi };
}

/** (n, 3) RGB bytes from the first three columns of proj (n, k) through fixed ranges; 0 where mask is 0. */
export function toRgb(proj: Float32Array, n: number, k: number, ranges: RgbRanges, mask?: Uint8Array): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let r = 0; r < n; r++) {
    if (mask && !mask[r]) continue;
    for (let c = 0; c < 3; c++) {
      const span = ranges.hi[c] - ranges.lo[c] || 1;
      const t = (proj[r * k + c] - ranges.lo[c]) / span;
      out[r * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, t)));
    }
  }
  return out;
}

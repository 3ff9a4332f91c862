// PCA of patch features, the DINOv2 visualisation recipe (Oquab et al. 2023, Fig. 1; its notebooks):
//  1. fit one PCA on a sample of foreground patches from the whole collection, so every image uses the same
//     basis and a colour means the same thing everywhere;
//  2. the first component separates foreground (tissue / object) from background: threshold it (default 0,
//     adjustable), oriented so that foreground is positive. Where a tissue mask already chose the patches
//     (a whole-slide feature set indexes tissue only), no threshold (null): every patch is foreground;
//  3. fit a second PCA on the foreground patches only and map its first three components to RGB, each
//     through a fixed range (percentiles of the sample), not per image min–max.
import { DinoscopeError } from '../common/errors.js';
import { gaussian, mulberry32 } from '../common/random.js';
import { symmetricEigen } from './eigen.js';

export interface PcaModel {
  dim: number;
  mean: Float32Array;
  /** k × dim, unit rows, descending variance. */
  components: Float32Array;
  variances: Float64Array;
}

/** Below this width the exact path is as fast as the randomized one; above it the randomized one is used for at
 * most this many components (the maps' 3; the distillation's whitening of ⌈D_s / 2⌉ goes the exact way). */
const RANDOMIZED_MIN_DIM = 256;
const RANDOMIZED_MAX_K = 8;

/**
 * Fit the top-k principal components of the n rows (n × d) of `data`. Few components of wide features (the
 * maps' 3 of a ViT's 384–1536) by randomized subspace iteration, as scikit-learn's PCA does for them (its
 * `svd_solver='auto'`, which the DINOv2 notebooks' PCA ran), otherwise exactly: covariance + eigendecomposition.
 */
export function fitPca(data: Float32Array, n: number, d: number, k: number): PcaModel {
  if (n < 2) throw new DinoscopeError('BAD_INPUT', `PCA needs at least 2 samples, got ${n}.`);
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += data[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const kk = Math.min(k, d);
  const { values, vectors } =
    d >= RANDOMIZED_MIN_DIM && kk <= RANDOMIZED_MAX_K
      ? topEigenRandomized(data, n, d, mean, kk)
      : symmetricEigen(covariance(data, n, d, mean), d);
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

/** Oversampling and power iterations of the randomized path (scikit-learn's randomized_svd defaults). */
const OVERSAMPLE = 10;
const POWER_ITERATIONS = 7;

/**
 * The top k eigenpairs of the covariance of `data` about `mean` without forming it (Halko, Martinsson & Tropp
 * 2011, Algorithm 4.4): a seeded random d × (k + 10) basis, 7 rounds of Q ← orth(Xcᵀ Xc Q), then the exact
 * eigendecomposition of the small (k + 10)² matrix Qᵀ C Q. Each round costs 2·n·d·(k + 10) products, so three
 * components of 1024-wide features cost ~1/5 of the covariance alone. Seeded: the same data gives the same
 * components. Returns the top k only (values descending, vectors as rows).
 */
function topEigenRandomized(
  data: Float32Array,
  n: number,
  d: number,
  mean: Float64Array,
  k: number,
): { values: Float64Array; vectors: Float64Array } {
  const l = Math.min(d, k + OVERSAMPLE);
  const normal = gaussian(mulberry32(0x70ca));
  let q = new Float64Array(l * d).map(() => normal()); // l rows of length d
  orthonormalizeRows(q, l, d);
  const y = new Float64Array(n * l);
  /** y = Xc qᵀ (n × l). */
  const project = (): void => {
    const shift = new Float64Array(l);
    for (let c = 0; c < l; c++) for (let j = 0; j < d; j++) shift[c] += mean[j] * q[c * d + j];
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let c = 0; c < l; c++) {
        const qc = c * d;
        let s0 = 0;
        let s1 = 0;
        let j = 0;
        for (; j + 1 < d; j += 2) {
          s0 += data[o + j] * q[qc + j];
          s1 += data[o + j + 1] * q[qc + j + 1];
        }
        for (; j < d; j++) s0 += data[o + j] * q[qc + j];
        y[r * l + c] = s0 + s1 - shift[c];
      }
    }
  };
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    project();
    // q ← orth(Xcᵀ y): z[c][j] = Σ_r (x[r][j] − mean[j]) y[r][c].
    const z = new Float64Array(l * d);
    const ysum = new Float64Array(l);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let c = 0; c < l; c++) {
        const yrc = y[r * l + c];
        ysum[c] += yrc;
        const zc = c * d;
        for (let j = 0; j < d; j++) z[zc + j] += data[o + j] * yrc;
      }
    }
    for (let c = 0; c < l; c++) for (let j = 0; j < d; j++) z[c * d + j] -= mean[j] * ysum[c];
    orthonormalizeRows(z, l, d);
    q = z;
  }
  // Qᵀ C Q = (Xc Q)ᵀ (Xc Q) / (n − 1), l × l.
  project();
  const small = new Float64Array(l * l);
  for (let r = 0; r < n; r++)
    for (let a = 0; a < l; a++) {
      const ya = y[r * l + a];
      for (let b = a; b < l; b++) small[a * l + b] += ya * y[r * l + b];
    }
  for (let a = 0; a < l; a++) for (let b = a; b < l; b++) small[b * l + a] = small[a * l + b] /= n - 1;
  const e = symmetricEigen(small, l);
  const vectors = new Float64Array(k * d);
  for (let c = 0; c < k; c++)
    for (let m = 0; m < l; m++) {
      const w = e.vectors[c * l + m];
      for (let j = 0; j < d; j++) vectors[c * d + j] += w * q[m * d + j];
    }
  return { values: e.values.slice(0, k), vectors };
}

/** Modified Gram–Schmidt on the l rows (length d) of `m`, twice for orthogonality to working precision. A row
 * that vanishes (rank below l) is left zero. */
function orthonormalizeRows(m: Float64Array, l: number, d: number): void {
  for (let pass = 0; pass < 2; pass++)
    for (let i = 0; i < l; i++) {
      const oi = i * d;
      for (let j = 0; j < i; j++) {
        const oj = j * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += m[oi + t] * m[oj + t];
        for (let t = 0; t < d; t++) m[oi + t] -= s * m[oj + t];
      }
      let s = 0;
      for (let t = 0; t < d; t++) s += m[oi + t] * m[oi + t];
      const inv = s > 1e-300 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < d; t++) m[oi + t] *= inv;
    }
}

/** Rows per block of covariance: the block's centred rows, transposed, stay in cache (d × 64 floats). */
const COV_BLOCK = 64;

/**
 * The (d, d) sample covariance of the n rows of `data` about `mean`, float64. Blocked over rows: each block of
 * COV_BLOCK centred rows is transposed once, and every covariance entry then adds one dot product of length
 * COV_BLOCK, so the d × d matrix is swept n / COV_BLOCK times instead of n (half the time at d 1024).
 */
export function covariance(data: Float32Array, n: number, d: number, mean: Float64Array): Float64Array {
  const B = COV_BLOCK;
  const cov = new Float64Array(d * d);
  const xt = new Float64Array(d * B); // (d, B): column b is row r0 + b, centred; zero past the last row
  for (let r0 = 0; r0 < n; r0 += B) {
    const nb = Math.min(B, n - r0);
    if (nb < B) xt.fill(0);
    for (let b = 0; b < nb; b++) {
      const o = (r0 + b) * d;
      for (let j = 0; j < d; j++) xt[j * B + b] = data[o + j] - mean[j];
    }
    for (let i = 0; i < d; i++) {
      const oi = i * B;
      const ci = i * d;
      for (let j = i; j < d; j++) {
        const oj = j * B;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let b = 0; b < B; b += 4) {
          s0 += xt[oi + b] * xt[oj + b];
          s1 += xt[oi + b + 1] * xt[oj + b + 1];
          s2 += xt[oi + b + 2] * xt[oj + b + 2];
          s3 += xt[oi + b + 3] * xt[oj + b + 3];
        }
        cov[ci + j] += s0 + s1 + s2 + s3;
      }
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] /= n - 1;
  return cov;
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

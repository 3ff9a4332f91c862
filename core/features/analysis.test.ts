import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './eigen.js';
import { assign, kmeans } from './kmeans.js';
import { covariance, fitPca, foreground, foregroundPca, orientForeground, project, rgbRanges, toRgb } from './pca.js';
import { gaussian, mulberry32 as rng } from '../common/random.js';
import { clusterColor, regions } from './regions.js';
import { clusteredVectors } from './synthetic.js';

/** Adjusted Rand index of two labelings. */
function ari(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  const key = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = `${a[i]},${b[i]}`;
    key.set(k, (key.get(k) ?? 0) + 1);
    ra.set(a[i], (ra.get(a[i]) ?? 0) + 1);
    rb.set(b[i], (rb.get(b[i]) ?? 0) + 1);
  }
  const c2 = (x: number): number => (x * (x - 1)) / 2;
  const sum = (m: Map<unknown, number>): number => [...m.values()].reduce((s, x) => s + c2(x), 0);
  const idx = sum(key);
  const exp = (sum(ra) * sum(rb)) / c2(n);
  const max = (sum(ra) + sum(rb)) / 2;
  return (idx - exp) / (max - exp);
}

describe('symmetric eigen (Householder + implicit QL)', () => {
  it('matches known decompositions', () => {
    // [[2,1],[1,2]]: eigenvalues 3, 1 with vectors (1,1)/√2, (1,−1)/√2
    const e = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expect(e.values[0]).toBeCloseTo(3, 12);
    expect(e.values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(e.vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    // A diagonal matrix is its own decomposition, sorted.
    const d = symmetricEigen(new Float64Array([1, 0, 0, 0, 5, 0, 0, 0, 3]), 3);
    expect(Array.from(d.values)).toEqual([5, 3, 1]);
    // A = Q Λ Qᵀ from a random orthogonal Q (Gram–Schmidt) is recovered: A v = λ v and V Vᵀ = I.
    const n = 12;
    const g = gaussian(rng(3));
    const q = new Float64Array(n * n).map(() => g());
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[i * n + k] * q[j * n + k];
        for (let k = 0; k < n; k++) q[i * n + k] -= s * q[j * n + k];
      }
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] ** 2;
      for (let k = 0; k < n; k++) q[i * n + k] /= Math.sqrt(s);
    }
    const lam = Array.from({ length: n }, (_, i) => n - i + 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q[k * n + i] * lam[k] * q[k * n + j];
    const r = symmetricEigen(a, n);
    lam.forEach((l, i) => expect(r.values[i]).toBeCloseTo(l, 9));
    for (let i = 0; i < n; i++) {
      for (let row = 0; row < n; row++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[row * n + k] * r.vectors[i * n + k];
        expect(av).toBeCloseTo(r.values[i] * r.vectors[i * n + row], 9);
      }
    }
  });
});

/** max |A v − λ v| over every eigenpair, and max |V Vᵀ − I|. */
function eigenErrors(a: Float64Array, n: number, e: { values: Float64Array; vectors: Float64Array }): { residual: number; orth: number } {
  let residual = 0;
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let row = 0; row < n; row++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[row * n + k] * e.vectors[i * n + k];
      residual = Math.max(residual, Math.abs(av - e.values[i] * e.vectors[i * n + row]));
    }
    for (let j = 0; j < n; j++) {
      let dd = 0;
      for (let k = 0; k < n; k++) dd += e.vectors[i * n + k] * e.vectors[j * n + k];
      orth = Math.max(orth, Math.abs(dd - (i === j ? 1 : 0)));
    }
  }
  return { residual, orth };
}

describe('symmetric eigen at feature widths', () => {
  it('decomposes rank-deficient, repeated-eigenvalue, zero and 1 × 1 matrices to working precision', () => {
    const g = gaussian(rng(11));
    // A covariance of 150 samples in 260 dimensions: rank 150, 110 zero eigenvalues (a repeated one).
    const n = 260;
    const m = 150;
    const x = new Float64Array(m * n).map(() => g());
    const a = new Float64Array(n * n);
    for (let t = 0; t < m; t++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += x[t * n + i] * x[t * n + j];
    const e = symmetricEigen(a, n);
    const { residual, orth } = eigenErrors(a, n, e);
    const scale = e.values[0];
    expect(residual / scale).toBeLessThan(1e-12);
    expect(orth).toBeLessThan(1e-12);
    for (let i = 1; i < n; i++) expect(e.values[i]).toBeLessThanOrEqual(e.values[i - 1]);
    for (let i = m; i < n; i++) expect(Math.abs(e.values[i]) / scale).toBeLessThan(1e-12);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    expect(e.values.reduce((s, v) => s + v, 0) / trace).toBeCloseTo(1, 12);
    // Zero matrix: eigenvalues 0, an orthonormal basis all the same.
    const z = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(z.values)).toEqual([0, 0, 0]);
    expect(eigenErrors(new Float64Array(9), 3, z).orth).toBeLessThan(1e-15);
    expect(Array.from(symmetricEigen(new Float64Array([-2]), 1).values)).toEqual([-2]);
    // Negative and positive eigenvalues, sorted descending.
    const s = symmetricEigen(new Float64Array([0, 2, 2, 0]), 2);
    expect(s.values[0]).toBeCloseTo(2, 14);
    expect(s.values[1]).toBeCloseTo(-2, 14);
  });
});

describe('PCA of wide features', () => {
  it('the covariance matches the plain sum, and few components of wide features match the exact eigendecomposition', () => {
    // 1000 samples (not a multiple of the 64-row covariance block) in 300 dimensions with a decaying spectrum.
    const d = 300;
    const n = 1000;
    const g = gaussian(rng(12));
    const L = 40;
    const mix = new Float64Array(L * d).map(() => g());
    const data = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      for (let a = 0; a < L; a++) {
        const z = g() / Math.sqrt(a + 1);
        for (let j = 0; j < d; j++) data[r * d + j] += z * mix[a * d + j];
      }
      for (let j = 0; j < d; j++) data[r * d + j] += 0.2 * g() + 3;
    }
    const mean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += data[r * d + j] / n;
    const cov = covariance(data, n, d, mean);
    for (const [i, j] of [
      [0, 0],
      [5, 17],
      [299, 3],
      [150, 299],
    ]) {
      let s = 0;
      for (let r = 0; r < n; r++) s += (data[r * d + i] - mean[i]) * (data[r * d + j] - mean[j]);
      expect(cov[i * d + j]).toBeCloseTo(s / (n - 1), 9);
      expect(cov[j * d + i]).toBe(cov[i * d + j]);
    }
    const exact = symmetricEigen(cov, d);
    const model = fitPca(data, n, d, 3); // d ≥ 256, k 3: the randomized path
    for (let c = 0; c < 3; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += model.components[c * d + j] * exact.vectors[c * d + j];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-7); // within 5e-4 rad of the exact axis
      expect(model.variances[c] / exact.values[c]).toBeCloseTo(1, 8);
    }
    // Seeded: the same data, the same components.
    expect(Array.from(fitPca(data, n, d, 3).components)).toEqual(Array.from(model.components));
  });
});

describe('PCA', () => {
  it('recovers a planted subspace; foreground by the oriented first component; fixed RGB ranges', () => {
    // 3000 samples in 32-d: large variance along 3 planted orthonormal directions, small noise elsewhere;
    // the first direction splits "tissue" (+4) from "background" (−4), background the majority.
    const d = 32;
    const n = 3000;
    const g = gaussian(rng(5));
    const basis = [0, 1, 2].map((i) => {
      const v = new Float32Array(d);
      v[(i * 7) % d] = 0.6;
      v[(i * 7 + 3) % d] = 0.8;
      return v;
    });
    const data = new Float32Array(n * d);
    const tissue = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      tissue[r] = r % 3 === 0 ? 1 : 0;
      const coef = [(tissue[r] ? 4 : -4) + 0.3 * g(), 2 * g(), 1 * g()];
      for (let j = 0; j < d; j++) data[r * d + j] = 0.05 * g() + coef[0] * basis[0][j] + coef[1] * basis[1][j] + coef[2] * basis[2][j] + 1;
    }
    const model = fitPca(data, n, d, 3);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += model.components[c * d + j] * basis[c][j];
      expect(Math.abs(s)).toBeGreaterThan(0.99);
    }
    const proj = project(model, data, n);
    orientForeground(model, proj, n);
    const fg = foreground(proj, n, 3);
    let agree = 0;
    for (let r = 0; r < n; r++) agree += fg[r] === tissue[r] ? 1 : 0;
    expect(agree / n).toBeGreaterThan(0.99);
    const fgModel = foregroundPca(data, n, d, fg, 3);
    let s = 0;
    for (let j = 0; j < d; j++) s += fgModel.components[j] * basis[1][j];
    expect(Math.abs(s)).toBeGreaterThan(0.98); // within tissue the biggest variation is the 2nd planted axis
    const ranges = rgbRanges(proj, n, 3);
    const rgb = toRgb(proj, n, 3, ranges, fg);
    expect(rgb.length).toBe(n * 3);
    expect(rgb[1 * 3]).toBe(0); // background row 1 is masked black
  });
});

describe('k-means', () => {
  it('recovers planted clusters (ARI > 0.95), full-batch and mini-batch, spherical, seeded', () => {
    const d = 48;
    const syn = clusteredVectors(3000, d, 8, 0.08, 21);
    const full = kmeans(syn.vectors, 3000, d, { k: 8, seed: 1, spherical: true, restarts: 4 });
    expect(ari(assign(full, syn.vectors, 3000), syn.labels)).toBeGreaterThan(0.95);
    const mini = kmeans(syn.vectors, 3000, d, { k: 8, seed: 1, spherical: true, batchSize: 256, iterations: 60, restarts: 4 });
    expect(ari(assign(mini, syn.vectors, 3000), syn.labels)).toBeGreaterThan(0.95);
    const again = kmeans(syn.vectors, 3000, d, { k: 8, seed: 1, spherical: true, restarts: 4 });
    expect(Array.from(again.centroids)).toEqual(Array.from(full.centroids));
    const euclid = kmeans(syn.vectors, 3000, d, { k: 8, seed: 2, restarts: 4 });
    expect(ari(assign(euclid, syn.vectors, 3000), syn.labels)).toBeGreaterThan(0.95);
    expect(() => kmeans(syn.vectors, 3, d, { k: 5 })).toThrow(/between 1 and the 3 samples/);
  });
});

describe('regions', () => {
  it('finds connected regions of a label, largest first, and a stable palette', () => {
    // 6 × 4 grid: label 1 forms a 4-cell L and a separate single cell.
    // prettier-ignore
    const g = new Int32Array([
      1, 1, 0, 0, 0, 1,
      1, 0, 0, 2, 2, 0,
      1, 0, 0, 2, 2, 0,
      0, 0, 0, 0, 0, 0,
    ]);
    const r = regions(g, 6, 4, 1);
    expect(r.map((x) => x.area)).toEqual([4, 1]);
    expect(r[0]).toMatchObject({ x0: 0, y0: 0, x1: 1, y1: 2 });
    expect(regions(g, 6, 4).map((x) => [x.label, x.area])).toEqual([
      [0, 15],
      [1, 4],
      [2, 4],
      [1, 1],
    ]);
    expect(clusterColor(3)).toEqual(clusterColor(3));
    expect(new Set(Array.from({ length: 12 }, (_, i) => clusterColor(i).join())).size).toBe(12);
  });
});

// Health metrics on synthetic features whose locality is known: a smooth function of grid position vs
// i.i.d. random vectors, region-coded features vs random, and CLS tokens aligned with or orthogonal to the patches.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/random.js';
import { clsPatchCosine, denseHealth, patchLocality } from './metrics.js';
import { selectProbes } from './probes.js';

const grid = { h: 16, w: 16 };
const n = grid.h * grid.w;
const b = 2;
const d = 32;

function randomFeatures(seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: b * n * d }, () => 2 * r() - 1);
}

/** Features = a narrow Gaussian bump basis over the grid: cos similarity decays with distance. */
function smoothFeatures(): Float32Array {
  const centres = Array.from({ length: d }, (_, k) => [(k % 8) * 2 + 0.5, Math.floor(k / 8) * 4 + 1.5]);
  const out = new Float32Array(b * n * d);
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < n; p++) {
      const y = Math.floor(p / grid.w);
      const x = p % grid.w;
      for (let k = 0; k < d; k++) {
        const [cx, cy] = centres[k];
        out[(i * n + p) * d + k] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5 ** 2));
      }
    }
  }
  return out;
}

describe('selectProbes', () => {
  it('is fixed per seed, distinct, inside the margin', () => {
    const a = selectProbes(3, grid, 10, 5, 2);
    expect(selectProbes(3, grid, 10, 5, 2)).toEqual(a);
    expect(selectProbes(3, grid, 10, 6, 2)).not.toEqual(a);
    expect(a).toHaveLength(30);
    for (let i = 0; i < 3; i++) expect(new Set(a.filter((p) => p.image === i).map((p) => p.patch)).size).toBe(10);
    for (const { patch } of a) {
      const y = Math.floor(patch / grid.w);
      const x = patch % grid.w;
      expect(Math.min(y, x, grid.h - 1 - y, grid.w - 1 - x)).toBeGreaterThanOrEqual(2);
    }
    expect(() => selectProbes(1, { h: 3, w: 3 }, 2, 1, 2)).toThrow(/margin/);
  });
});

describe('patchLocality', () => {
  const probes = selectProbes(b, grid, 16, 11, 3);

  it('is high for a smooth function of position and at the uniform share for random features', () => {
    const smooth = patchLocality(smoothFeatures(), b, grid, d, probes, { radius: 3 });
    const random = patchLocality(randomFeatures(1), b, grid, d, probes, { radius: 3 });
    // 28 neighbours within radius 3 of 255 others: uniform share ≈ 0.11.
    expect(random.uniformLocality).toBeCloseTo(28 / 255, 6);
    expect(Math.abs(random.locality - random.uniformLocality)).toBeLessThan(0.05);
    expect(smooth.locality).toBeGreaterThan(0.5);
    expect(smooth.locality).toBeGreaterThan(4 * random.locality);
    expect(smooth.region).toBeNull();
  });

  it('measures the share inside the probe’s own labelled region', () => {
    // Two regions (left / right halves); region-coded features plus noise.
    const labels = new Int32Array(b * n);
    const coded = randomFeatures(2);
    for (let i = 0; i < b; i++) {
      for (let p = 0; p < n; p++) {
        const lab = p % grid.w < grid.w / 2 ? 0 : 1;
        labels[i * n + p] = lab;
        for (let k = 0; k < d; k++) coded[(i * n + p) * d + k] = 0.3 * coded[(i * n + p) * d + k] + (k % 2 === lab ? 1 : 0);
      }
    }
    const good = patchLocality(coded, b, grid, d, probes, { radius: 2, labels });
    const bad = patchLocality(randomFeatures(3), b, grid, d, probes, { radius: 2, labels });
    expect(good.uniformRegion).toBeCloseTo(127 / 255, 6);
    expect(good.region).toBeGreaterThan(0.85);
    expect(Math.abs((bad.region ?? 0) - (bad.uniformRegion ?? 0))).toBeLessThan(0.06);
  });
});

describe('clsPatchCosine', () => {
  it('is 1 when CLS equals every patch, ≈0 for random CLS, and travels in denseHealth', () => {
    const patches = randomFeatures(4);
    const aligned = new Float32Array(b * n * d);
    const cls = Float32Array.from({ length: b * d }, (_, k) => (k % 3) - 1 + 0.5);
    for (let i = 0; i < b; i++) for (let p = 0; p < n; p++) aligned.set(cls.subarray(i * d, (i + 1) * d), (i * n + p) * d);
    expect(clsPatchCosine(cls, aligned, b, n, d)).toBeCloseTo(1, 6);
    expect(Math.abs(clsPatchCosine(cls, patches, b, n, d))).toBeLessThan(0.05);
    const report = denseHealth(aligned, b, grid, d, selectProbes(b, grid, 4, 1), { radius: 2, cls });
    expect(report.clsPatchCosine).toBeCloseTo(1, 6);
    expect(report.radius).toBe(2);
  });
});

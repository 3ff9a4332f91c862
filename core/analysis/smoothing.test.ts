// Neighbour smoothing of map features: the separable pass over the grid equals the direct weighted sum,
// patches outside the index neither give nor take, and smoothing pulls noisy patches towards their region.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/random.js';
import { smoothAt, smoothGrid, smoothingWeights } from './smoothing.js';

/** A (h, w) grid of random unit vectors of dimension d, with a share `missing` of the cells not indexed. */
function sparseGrid(w: number, h: number, d: number, missing: number, seed: number) {
  const u = mulberry32(seed);
  const positions = Uint32Array.from({ length: w * h }, (_, p) => p).filter(() => u() >= missing);
  const vectors = new Float32Array(positions.length * d);
  for (let i = 0; i < positions.length; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (vectors[i * d + c] = u() - 0.5) ** 2;
    for (let c = 0; c < d; c++) vectors[i * d + c] /= Math.sqrt(s);
  }
  return { positions, vectors };
}

/** The definition in float64: Σ over indexed cells within 2σ (each axis) of w(dx) w(dy) v, normalised. */
function direct(vectors: Float32Array, positions: Uint32Array, w: number, h: number, d: number, sigma: number): Float64Array {
  const at = new Map<number, number>();
  positions.forEach((p, i) => at.set(p, i));
  const r = Math.ceil(2 * sigma);
  const out = new Float64Array(positions.length * d);
  positions.forEach((p, i) => {
    const x = p % w;
    const y = Math.floor(p / w);
    for (let yy = y - r; yy <= y + r; yy++)
      for (let xx = x - r; xx <= x + r; xx++) {
        const j = xx >= 0 && yy >= 0 && xx < w && yy < h ? at.get(yy * w + xx) : undefined;
        if (j === undefined) continue;
        const wt = Math.exp(-((xx - x) ** 2) / (2 * sigma ** 2)) * Math.exp(-((yy - y) ** 2) / (2 * sigma ** 2));
        for (let c = 0; c < d; c++) out[i * d + c] += wt * vectors[j * d + c];
      }
    let s = 0;
    for (let c = 0; c < d; c++) s += out[i * d + c] ** 2;
    for (let c = 0; c < d; c++) out[i * d + c] /= Math.sqrt(s);
  });
  return out;
}

describe('map smoothing', () => {
  it('the separable pass equals the direct neighbour sum on sparse, non-square grids, edges included', async () => {
    for (const [w, h, sigma, missing] of [
      [13, 7, 1, 0.3],
      [5, 17, 0.5, 0],
      [9, 9, 2, 0.6],
      [1, 6, 1, 0.2],
    ]) {
      const d = 5;
      const { positions, vectors } = sparseGrid(w, h, d, missing, w * 100 + h);
      const got = await smoothGrid(vectors, positions, w, h, d, sigma);
      const want = direct(vectors, positions, w, h, d, sigma);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `${w}×${h} σ ${sigma}`).toBeLessThan(1e-5);
      // The sample route (rows of a large collection, read one by one) gives the same rows.
      const at = new Map<number, number>();
      positions.forEach((p, i) => at.set(p, i));
      const some = positions.filter((_, i) => i % 3 === 0);
      const sampled = smoothAt(some, w, h, d, sigma, (p, v) => {
        const j = at.get(p);
        if (j === undefined) return false;
        v.set(vectors.subarray(j * d, (j + 1) * d));
        return true;
      });
      some.forEach((p, k) => {
        const i = at.get(p)!;
        for (let c = 0; c < d; c++) expect(Math.abs(sampled[k * d + c] - want[i * d + c])).toBeLessThan(1e-5);
      });
    }
  });

  it('σ 0 is no smoothing; an isolated patch keeps its vector; weights stop at 2σ', async () => {
    const { positions, vectors } = sparseGrid(6, 6, 4, 0.5, 7);
    expect(await smoothGrid(vectors, positions, 6, 6, 4, 0)).toBe(vectors);
    const lone = await smoothGrid(Float32Array.of(0.6, 0.8), Uint32Array.of(14), 6, 6, 2, 1);
    expect(Array.from(lone)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(smoothingWeights(1)).toHaveLength(3);
    expect(smoothingWeights(0.5)).toHaveLength(2);
    expect(smoothingWeights(2)[4]).toBeCloseTo(Math.exp(-2), 12);
  });

  it('pulls noisy patches of two regions towards their region: more patches nearer their own direction', async () => {
    // Left half direction e0, right half e1, each patch with noise of 4× the signal's length.
    const [w, h, d] = [24, 16, 16];
    const u = mulberry32(3);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    const positions = Uint32Array.from({ length: w * h }, (_, p) => p);
    const vectors = new Float32Array(w * h * d);
    for (let p = 0; p < w * h; p++) {
      for (let c = 0; c < d; c++) vectors[p * d + c] = (4 / Math.sqrt(d)) * gauss();
      vectors[p * d + (p % w < w / 2 ? 0 : 1)] += 1;
    }
    const right = (v: Float32Array): number => {
      let ok = 0;
      for (let p = 0; p < w * h; p++) if (p % w < w / 2 === v[p * d] > v[p * d + 1]) ok++;
      return ok / (w * h);
    };
    const smoothed = await smoothGrid(vectors, positions, w, h, d, 1);
    expect(right(vectors)).toBeLessThan(0.85);
    expect(right(smoothed)).toBeGreaterThan(0.93);
  });

  it("yields to the caller's thread between rows", async () => {
    const { positions, vectors } = sparseGrid(40, 40, 3, 0, 1);
    let turns = 0;
    await smoothGrid(vectors, positions, 40, 40, 3, 1, async () => void turns++, 100);
    expect(turns).toBeGreaterThanOrEqual(10); // every 3 rows of 40 patches
  });
});

// Curation on embeddings whose structure is known: near-duplicate removal against brute force, and balanced
// hierarchical sampling on a collection that is 90 % one concept and 10 % three others.
import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../../common/random.js';
import { dedup } from './dedup.js';
import { defaultLevels } from './curate.js';
import { hierarchicalKMeans, topClusters } from './hierarchical-kmeans.js';
import { balancedSample, bestCut } from './sampling.js';
import { clusterWeights } from './weights.js';

const D = 32;

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Rows around `centres` (row i near centre of[i]) with per-dimension noise `noise`, unit length. */
function around(centres: Float32Array[], of: number[], noise: number, seed: number): Float32Array {
  const g = gaussian(mulberry32(seed));
  const out = new Float32Array(of.length * D);
  of.forEach((c, i) => out.set(unit(centres[c].map((x) => x + noise * g())), i * D));
  return out;
}

function randomCentres(k: number, seed: number): Float32Array[] {
  const g = gaussian(mulberry32(seed));
  return Array.from({ length: k }, () => unit(Float32Array.from({ length: D }, () => g())));
}

const cos = (a: Float32Array, i: number, j: number): number => {
  let s = 0;
  for (let k = 0; k < D; k++) s += a[i * D + k] * a[j * D + k];
  return s;
};

describe('near-duplicate removal', () => {
  it('removes exact and near copies and nothing else, as brute force does', () => {
    const centres = randomCentres(12, 1);
    const base = 1500;
    const of = Array.from({ length: base }, (_, i) => i % 12);
    const distinct = around(centres, of, 0.3, 2);
    // 200 copies of random rows: 100 exact, 100 with noise small enough to stay above the threshold.
    const u = mulberry32(3);
    const g = gaussian(mulberry32(4));
    const n = base + 200;
    const data = new Float32Array(n * D);
    data.set(distinct);
    for (let c = 0; c < 200; c++) {
      const src = Math.floor(u() * base);
      const row = distinct.slice(src * D, src * D + D);
      data.set(c < 100 ? row : unit(row.map((x) => x + 0.01 * g())), (base + c) * D);
    }
    const threshold = 0.98;
    const r = dedup(data, n, D, { threshold, seed: 0 });
    // Brute force: a row is a duplicate when an earlier row is at least `threshold` similar to it (no chains
    // arise here: the distinct rows are far apart at this noise).
    let brute = 0;
    for (let i = 0; i < n; i++) {
      let dup = false;
      for (let j = 0; j < i && !dup; j++) dup = cos(data, i, j) >= threshold;
      if (!dup) brute++;
    }
    expect(brute).toBe(base);
    expect(r.kept.length).toBe(brute);
    for (let i = 0; i < base; i++) expect(r.representative[i]).toBe(i);
    for (let c = 0; c < 200; c++) expect(r.representative[base + c]).toBeLessThan(base);
  });
});

describe('best cut', () => {
  it('fills clusters evenly up to their sizes and hands out the remainder', () => {
    expect(bestCut([10, 1, 5], 9, mulberry32(0))).toEqual([4, 1, 4]);
    expect(bestCut([10, 1, 5], 100, mulberry32(0))).toEqual([10, 1, 5]);
    const r = bestCut([10, 10, 10], 10, mulberry32(0));
    expect(r.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...r) - Math.min(...r)).toBe(1);
  });
});

describe('balanced hierarchical sampling', () => {
  // 90 % concept 0 (itself varied: 30 sub-modes), 10 % split over concepts 1–3.
  const concepts = randomCentres(4, 7);
  const g = gaussian(mulberry32(8));
  const modes = Array.from({ length: 30 }, () => unit(concepts[0].map((x) => x + 0.06 * g())));
  const n = 3000;
  const concept: number[] = [];
  const centreOf: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i < 2700 ? 0 : 1 + (i % 3);
    concept.push(c);
    centreOf.push(c === 0 ? i % 30 : 29 + c);
  }
  const data = around([...modes, ...concepts.slice(1)], centreOf, 0.02, 9);

  it('balances the top-level clusters, giving each rare concept over 4× its share in the collection (default levels)', () => {
    const h = hierarchicalKMeans(data, n, D, defaultLevels(n), 0);
    const picked = balancedSample(h, n, { target: 400, seed: 0 });
    expect(new Set(picked).size).toBe(400);
    const share = [0, 0, 0, 0];
    for (const i of picked) share[concept[i]] += 1 / picked.length;
    process.stderr.write(
      `curated shares of concepts with levels ${h.ks.join(', ')} (uniform sampling: 0.900 0.033 0.033 0.033): ${share.map((s) => s.toFixed(3)).join(' ')}\n`,
    );
    // Every top-level cluster gets the same number of tiles (±1): concept 0's variety earns it several clusters.
    const perCluster = new Array<number>(h.ks[h.ks.length - 1]).fill(0);
    const top = topClusters(h, n);
    for (const i of picked) perCluster[top[i]]++;
    expect(Math.max(...perCluster) - Math.min(...perCluster)).toBeLessThanOrEqual(1);
    for (const c of [1, 2, 3]) expect(share[c]).toBeGreaterThan(4 / 30);
    expect(share[0]).toBeLessThan(0.6);
  });

  it('keeps every image under the per-image cap and still meets the target', () => {
    const imageOf = Int32Array.from({ length: n }, (_, i) => (i < 2000 ? 0 : i < 2700 ? 1 : 2 + (i % 2)));
    const h = hierarchicalKMeans(data, n, D, [40, 4], 0);
    const picked = balancedSample(h, n, { target: 300, imageOf, perImageCap: 0.3, seed: 1 });
    expect(picked).toHaveLength(300);
    const per = new Map<number, number>();
    for (const i of picked) per.set(imageOf[i], (per.get(imageOf[i]) ?? 0) + 1);
    for (const c of per.values()) expect(c).toBeLessThanOrEqual(90);
  });
});

describe('curated sampling weights', () => {
  // The collection of the balanced-sampling tests: 90 % concept 0 (30 sub-modes), 10 % concepts 1–3.
  const concepts = randomCentres(4, 7);
  const g = gaussian(mulberry32(8));
  const modes = Array.from({ length: 30 }, () => unit(concepts[0].map((x) => x + 0.06 * g())));
  const n = 3000;
  const concept = Array.from({ length: n }, (_, i) => (i < 2700 ? 0 : 1 + (i % 3)));
  const data = around(
    [...modes, ...concepts.slice(1)],
    concept.map((c, i) => (c === 0 ? i % 30 : 29 + c)),
    0.02,
    9,
  );

  it('keeps every tile, gives every top-level cluster an equal share and each rare concept over 4× its share', () => {
    const h = hierarchicalKMeans(data, n, D, defaultLevels(n), 0);
    const w = clusterWeights(h, n);
    expect(w.every((x) => x > 0)).toBe(true);
    expect(w.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 9);
    const top = topClusters(h, n);
    const perCluster = new Array<number>(h.ks[h.ks.length - 1]).fill(0);
    const share = [0, 0, 0, 0];
    w.forEach((x, i) => {
      perCluster[top[i]] += x;
      share[concept[i]] += x;
    });
    for (const p of perCluster) expect(p).toBeCloseTo(1 / perCluster.length, 9);
    process.stderr.write(`weighted shares of concepts (uniform: 0.900 0.033 0.033 0.033): ${share.map((s) => s.toFixed(3)).join(' ')}\n`);
    for (const c of [1, 2, 3]) expect(share[c]).toBeGreaterThan(4 / 30);
    expect(share[0]).toBeLessThan(0.6);
    // Within a level-1 cluster every tile weighs the same (∝ 1 / the cluster's size).
    const first = h.assignments[0];
    for (let i = 1; i < n; i++) if (first[i] === first[0]) expect(w[i]).toBeCloseTo(w[0], 12);
  });

  it('holds every image to the per-image cap, handing its excess to the others in proportion', () => {
    // Image 0 holds all of concepts 1–3 (most of the clusters' share), images 1–3 concept 0.
    const imageOf = Int32Array.from(concept, (c, i) => (c > 0 ? 0 : 1 + (i % 3)));
    const h = hierarchicalKMeans(data, n, D, [40, 4], 0);
    const free = clusterWeights(h, n, { imageOf });
    const w = clusterWeights(h, n, { imageOf, perImageCap: 0.3 });
    const per = [0, 0, 0, 0];
    const freePer = [0, 0, 0, 0];
    w.forEach((x, i) => (per[imageOf[i]] += x));
    free.forEach((x, i) => (freePer[imageOf[i]] += x));
    expect(freePer[0]).toBeGreaterThan(0.3);
    expect(per[0]).toBeCloseTo(0.3, 9);
    expect(per.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 9);
    for (const p of per) expect(p).toBeLessThan(0.3 + 1e-9);
    // The images under the cap all grew by the same factor (their weights scaled in proportion).
    const under = [1, 2, 3].filter((i) => per[i] < 0.3 - 1e-9);
    expect(under.length).toBeGreaterThan(0);
    for (const i of under) expect(per[i] / freePer[i]).toBeCloseTo(per[under[0]] / freePer[under[0]], 9);
    for (const i of under) expect(per[i]).toBeGreaterThan(freePer[i]);
    // A cap no split can meet (under 1 / images): every image gets an equal share.
    const even = [0, 0, 0, 0];
    clusterWeights(h, n, { imageOf, perImageCap: 0.1 }).forEach((x, i) => (even[imageOf[i]] += x));
    for (const e of even) expect(e).toBeCloseTo(0.25, 9);
  });
});

describe('curated weights at scale', () => {
  it('caps images over 3·10^5 rows', () => {
    // Two images, one holding 90 % of the rows, capped at half: the image count was once taken with
    // Math.max(...imageOf), which overflows the call stack at this many rows.
    const n = 300_000;
    const h = { ks: [2], assignments: [Int32Array.from({ length: n }, (_, r) => r % 2)] };
    const imageOf = Int32Array.from({ length: n }, (_, r) => (r < 0.9 * n ? 0 : 1));
    const w = clusterWeights(h, n, { imageOf, perImageCap: 0.5 });
    const share = [0, 1].map((i) => w.reduce((a, x, r) => a + (imageOf[r] === i ? x : 0), 0));
    expect(share[0]).toBeCloseTo(0.5, 9);
    expect(share[1]).toBeCloseTo(0.5, 9);
  });
});

import { describe, expect, it } from 'vitest';
import { addBlock, blockMask, maskBatch, maskUpperBound } from './masking.js';
import { Rng } from './random.js';

/** Bounding box and count of the set patches of a (gh·gw,) mask. */
function bbox(mask: Uint8Array, w: number): { h: number; w: number; area: number } {
  let y0 = Infinity,
    y1 = -1,
    x0 = Infinity,
    x1 = -1,
    area = 0;
  mask.forEach((v, i) => {
    if (!v) return;
    area++;
    const y = Math.floor(i / w),
      x = i % w;
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
  });
  return { h: y1 - y0 + 1, w: x1 - x0 + 1, area };
}

describe('block masking (DINOv2 MaskingGenerator + collate)', () => {
  const grid = { gridH: 14, gridW: 14 }; // 224 / 16
  const N = 196;

  it('the static upper bound is Σ ⌊N · probs_{i+1}⌋', () => {
    // 2B = 32: n = 16, probs = linspace(0.1, 0.5, 17).
    let want = 0;
    for (let i = 1; i <= 16; i++) want += Math.floor(N * (0.1 + (0.4 * i) / 16));
    expect(maskUpperBound(32, grid)).toBe(want);
    expect(maskUpperBound(1, grid)).toBe(1); // no masked image: one padding slot (weight 0) keeps the graph shapes non-empty
  });

  it('masks half the images, within the targets and the bound, with 1/n weights', () => {
    const rng = Rng.seeded(11);
    const problems: string[] = [];
    for (let step = 0; step < 50; step++) {
      const b = maskBatch(rng, 32, grid);
      expect(b.masks.length).toBe(32 * N);
      const perImage = Array.from({ length: 32 }, (_, i) => b.masks.subarray(i * N, (i + 1) * N).reduce((s, v) => s + v, 0));
      expect(perImage.filter((c) => c > 0).length).toBeLessThanOrEqual(16);
      expect(perImage.filter((c) => c === 0).length).toBeGreaterThanOrEqual(16);
      expect(Math.max(...perImage)).toBeLessThanOrEqual(Math.floor(0.5 * N));
      expect(b.count).toBe(perImage.reduce((s, c) => s + c, 0));
      expect(b.count).toBeLessThanOrEqual(b.upperBound);
      expect(b.indices.length).toBe(b.upperBound);
      // Indices ascend and point at masked patches; weights are 1/n per image (sum 1); padding is 0 / 0.
      const wsum = new Map<number, number>();
      for (let k = 0; k < b.count; k++) {
        const img = Math.floor(b.indices[k] / N);
        if (b.masks[b.indices[k]] !== 1) problems.push(`step ${step}: index ${b.indices[k]} not masked`);
        if (k > 0 && b.indices[k] <= b.indices[k - 1]) problems.push(`step ${step}: indices not ascending at ${k}`);
        if (Math.abs(b.weights[k] - 1 / perImage[img]) > 1e-6)
          problems.push(`step ${step}: weight ${b.weights[k]} for ${perImage[img]} patches`);
        wsum.set(img, (wsum.get(img) ?? 0) + b.weights[k]);
      }
      for (const [img, s] of wsum) if (Math.abs(s - 1) > 1e-5) problems.push(`step ${step}: image ${img} weights sum to ${s}`);
      for (let k = b.count; k < b.upperBound; k++)
        if (b.indices[k] !== 0 || b.weights[k] !== 0) problems.push(`step ${step}: padding ${k} not zero`);
    }
    expect(problems).toEqual([]);
  });

  it('reaches most of the target with blocks, and exactly with the v3 top-up', () => {
    const rng = Rng.seeded(5);
    let reached = 0;
    for (let t = 0; t < 200; t++) {
      const target = rng.int(10, 98);
      const m = blockMask(rng, target, grid);
      const c = m.reduce((s, v) => s + v, 0);
      expect(c).toBeLessThanOrEqual(target);
      reached += c / target;
      const exact = blockMask(rng, target, { ...grid, exact: true });
      expect(exact.reduce((s, v) => s + v, 0)).toBe(target);
    }
    expect(reached / 200).toBeGreaterThan(0.85);
    // v3 batch: the masked images hold exactly ⌊N · probs_{i+1}⌋ patches, so the count equals the bound.
    const b = maskBatch(Rng.seeded(3), 8, { ...grid, exact: true });
    expect(b.count).toBe(b.upperBound);
  });

  it('one block is a filled rectangle of at most maxMask patches with a log-uniform aspect', () => {
    const rng = Rng.seeded(9);
    let tall = 0,
      wide = 0,
      placed = 0;
    for (let t = 0; t < 500; t++) {
      const mask = new Uint8Array(N);
      const added = addBlock(rng, mask, grid, 40);
      if (added === 0) continue;
      placed++;
      const box = bbox(mask, 14);
      expect(box.area).toBe(added);
      expect(box.h * box.w).toBe(added); // filled
      expect(added).toBeLessThanOrEqual(40);
      expect(box.h).toBeLessThan(14);
      expect(box.w).toBeLessThan(14);
      const aspect = box.h / box.w;
      expect(aspect).toBeGreaterThan(1 / 7); // 0.3 … 1/0.3 before rounding to whole patches
      expect(aspect).toBeLessThan(7);
      if (aspect > 1) tall++;
      if (aspect < 1) wide++;
    }
    expect(placed).toBeGreaterThan(450);
    expect(tall).toBeGreaterThan(100);
    expect(wide).toBeGreaterThan(100);
  });

  it('is deterministic under a seed', () => {
    const a = maskBatch(Rng.seeded(77), 16, grid);
    const b = maskBatch(Rng.seeded(77), 16, grid);
    expect(Array.from(a.masks)).toEqual(Array.from(b.masks));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(maskBatch(Rng.seeded(78), 16, grid).masks)).not.toEqual(Array.from(a.masks));
  });
});

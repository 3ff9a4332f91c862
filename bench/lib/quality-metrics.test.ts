// The quality benchmark's measures on hand-checked cases.
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../core/train/health/ari.js';
import { pixelFeatures, zScore } from './quality-metrics.js';

describe('quality metrics', () => {
  it('adjusted Rand index: 1 for the same partition under other names, the textbook value otherwise, unlabelled items left out', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9])).toBe(1);
    // Pairs together in both 1, in truth a = 2, in found b = 1, of 6: expected ab/6 = 1/3, ARI (1 − 1/3)/(3/2 − 1/3) = 4/7.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(4 / 7, 12);
    // Index 2, a = b = 6 of 15 pairs: expected 2.4, ARI (2 − 2.4)/(6 − 2.4) = −1/9 (worse than chance).
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1])).toBeCloseTo(-1 / 9, 12);
    expect(adjustedRandIndex([0, -1, 0, 1, 1], [0, 7, 0, 1, 1])).toBe(1);
  });

  it('z-scores columns and computes patch colour statistics and tiny images', () => {
    const z = zScore(Float32Array.from([1, 5, 3, 5, 5, 5]), 3, 2);
    [-Math.sqrt(1.5), 0, 0, 0, Math.sqrt(1.5), 0].forEach((v, i) => expect(z[i]).toBeCloseTo(v, 6));
    // A 4 × 4 image of two 2-px patches per side: the top-left patch is black and white columns.
    const rgb = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 2; y++) rgb.fill(255, 3 * (y * 4 + 1), 3 * (y * 4 + 2));
    const { stats, tiny } = pixelFeatures(rgb, 4, 2, 2);
    expect(Array.from(stats.subarray(0, 6))).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(tiny.subarray(0, 12))).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(stats.subarray(6, 12))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { retrievalPrecision, type RetrievalSet } from './retrieval.js';

/** Two images of a 4×4 grid, left half label 0, right half label 1. */
function set(feature: (label: number, i: number) => number[]): RetrievalSet {
  const rows: number[][] = [];
  const labels: number[] = [];
  const image: number[] = [];
  const gx: number[] = [];
  const gy: number[] = [];
  for (let im = 0; im < 2; im++)
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        const l = x < 2 ? 0 : 1;
        rows.push(feature(l, rows.length));
        labels.push(l);
        image.push(im);
        gx.push(x);
        gy.push(y);
      }
  const d = rows[0].length;
  return {
    features: Float64Array.from(rows.flat()),
    n: rows.length,
    d,
    labels: Int32Array.from(labels),
    image: Int32Array.from(image),
    gx: Int32Array.from(gx),
    gy: Int32Array.from(gy),
  };
}

describe('retrievalPrecision', () => {
  it('is 1 when each region has its own direction', () => {
    const s = set((l, i) => (l === 0 ? [1, 0.01 * (i % 3)] : [0.01 * (i % 5), 1]));
    expect(retrievalPrecision(s, { k: 10 })).toBe(1);
  });

  it('is the label share when features carry no region information', () => {
    // One constant feature: ties break by row index, so the score is the share of label-equal rows among
    // the first k non-excluded rows; with a single direction nothing separates the regions.
    const s = set(() => [1, 1]);
    const p = retrievalPrecision(s, { k: 30 });
    expect(p).toBeGreaterThan(0.35);
    expect(p).toBeLessThan(0.65);
  });

  it('skips same-image neighbours within the exclusion radius', () => {
    // Features = exact position: the nearest non-excluded neighbours are the same position on the other image.
    const s = set((_l, i) => {
      const x = i % 4;
      const y = Math.floor(i / 4) % 4;
      return [Math.cos(x + 4 * y), Math.sin(x + 4 * y), 0.5];
    });
    expect(retrievalPrecision(s, { k: 1, exclusionRadius: 4 })).toBe(1);
  });
});

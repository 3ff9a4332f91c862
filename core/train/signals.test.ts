import { describe, expect, it } from 'vitest';
import { effectiveRank, meanRowEntropy } from './signals.js';

describe('effectiveRank (Roy & Vetterli)', () => {
  it('is 0 for a collapsed batch (all rows equal)', () => {
    const x = new Float64Array(6 * 5).fill(0.3);
    expect(effectiveRank(x, 6, 5)).toBe(0);
  });

  it('is k for k equal singular values: ±e_j pairs span k orthogonal directions after centering', () => {
    const k = 3;
    const d = 5;
    const n = 2 * k;
    const x = new Float64Array(n * d);
    for (let j = 0; j < k; j++) {
      x[2 * j * d + j] = 1; // +e_j
      x[(2 * j + 1) * d + j] = -1; // −e_j
    }
    expect(effectiveRank(x, n, d)).toBeCloseTo(k, 9);
  });

  it('weights unequal spectra between 1 and the rank', () => {
    const d = 2;
    const x = Float64Array.from([3, 0, -3, 0, 0, 1, 0, -1]); // σ ∝ (3, 1)
    const p = [0.75, 0.25];
    const expected = Math.exp(-p.reduce((h, q) => h + q * Math.log(q), 0));
    expect(effectiveRank(x, 4, d)).toBeCloseTo(expected, 9);
  });
});

describe('meanRowEntropy', () => {
  it('is ln R for R distinct one-hot rows, 0 for one shared one-hot row, ln K for uniform rows', () => {
    const K = 8;
    const R = 4;
    const distinct = new Float64Array(R * K);
    for (let r = 0; r < R; r++) distinct[r * K + 2 * r] = 1;
    expect(meanRowEntropy(distinct, R, K)).toBeCloseTo(Math.log(R), 12);
    const shared = new Float64Array(R * K);
    for (let r = 0; r < R; r++) shared[r * K + 3] = 1;
    expect(meanRowEntropy(shared, R, K)).toBe(0);
    expect(meanRowEntropy(new Float64Array(R * K).fill(1 / K), R, K)).toBeCloseTo(Math.log(K), 12);
  });
});

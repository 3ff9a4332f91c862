import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng (xoshiro128**)', () => {
  it('is deterministic under a seed and differs across seeds and keys', () => {
    const a = Rng.seeded(7);
    const b = Rng.seeded(7);
    const xs = Array.from({ length: 50 }, () => a.nextU32());
    expect(Array.from({ length: 50 }, () => b.nextU32())).toEqual(xs);
    expect(Rng.seeded(8).nextU32()).not.toBe(Rng.seeded(7).nextU32());
    expect(Rng.seeded(7, 1).nextU32()).not.toBe(Rng.seeded(7, 2).nextU32());
    expect(Rng.seeded(7, 2 ** 32).nextU32()).not.toBe(Rng.seeded(7, 0).nextU32());
  });

  it('resumes the same stream from a saved state (JSON round trip)', () => {
    const r = Rng.seeded(42);
    for (let i = 0; i < 1000; i++) r.normal();
    const saved = JSON.parse(JSON.stringify(r.state())) as ReturnType<Rng['state']>;
    const want = Array.from({ length: 100 }, () => [r.uniform(), r.normal(), r.int(0, 17), r.logUniform(0.3, 3)]);
    const resumed = Rng.fromState(saved);
    expect(
      Array.from({ length: 100 }, () => [resumed.uniform(), resumed.normal(), resumed.int(0, 17), resumed.logUniform(0.3, 3)]),
    ).toEqual(want);
    expect(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(/four unsigned/);
  });

  it('uniform, normal, int and logUniform have the right moments and ranges', () => {
    const r = Rng.seeded(1);
    const n = 100_000;
    let su = 0,
      sn = 0,
      sn2 = 0,
      sl = 0;
    let uMin = Infinity,
      uMax = -Infinity,
      lMin = Infinity,
      lMax = -Infinity;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.uniform(2, 4);
      uMin = Math.min(uMin, u);
      uMax = Math.max(uMax, u);
      su += u;
      const z = r.normal(1, 2);
      sn += z;
      sn2 += (z - 1) ** 2;
      counts[r.int(0, 6)]++;
      const l = r.logUniform(0.3, 1 / 0.3);
      lMin = Math.min(lMin, l);
      lMax = Math.max(lMax, l);
      sl += Math.log(l);
    }
    expect(uMin).toBeGreaterThanOrEqual(2);
    expect(uMax).toBeLessThan(4);
    expect(lMin).toBeGreaterThanOrEqual(0.3);
    expect(lMax).toBeLessThan(1 / 0.3 + 1e-12);
    expect(su / n).toBeCloseTo(3, 1);
    expect(sn / n).toBeCloseTo(1, 1);
    expect(Math.sqrt(sn2 / n)).toBeCloseTo(2, 1);
    expect(sl / n).toBeCloseTo(0, 1); // log-uniform symmetric around log 1
    for (const c of counts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.01);
  });

  it('shuffle is a permutation and is uniform over positions', () => {
    const r = Rng.seeded(3);
    const firstCounts = new Array(5).fill(0);
    for (let t = 0; t < 20_000; t++) {
      const p = r.permutation(5);
      if ([...p].sort().join() !== '0,1,2,3,4') throw new Error(`not a permutation: ${p}`);
      firstCounts[p[0]]++;
    }
    for (const c of firstCounts) expect(Math.abs(c / 20_000 - 0.2)).toBeLessThan(0.015);
  });

  it('weighted draws follow the weights and never pick a zero weight', () => {
    const r = Rng.seeded(5);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[r.weighted([1, 0, 3, 0])]++;
    expect(counts[1]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[2] / counts[0]).toBeGreaterThan(2.7);
    expect(counts[2] / counts[0]).toBeLessThan(3.3);
  });
});

import { describe, expect, it } from 'vitest';
import { CPU_SIZES, GPU_SIZES, REFERENCE_SIZES, SIZE_PRESETS, SizeSampler, fitToPatch, validateSizeTable } from './sizes.js';

describe('size tables', () => {
  it('holds the reference table and valid presets (multiples of 16, gram ≥ global)', () => {
    expect(REFERENCE_SIZES.map((e) => [e.global, e.local, e.gram, e.p])).toEqual([
      [512, 112, 768, 0.3],
      [768, 112, 1152, 0.3],
      [768, 168, 1152, 0.3],
      [768, 224, 1152, 0.05],
      [768, 336, 1152, 0.05],
    ]);
    for (const t of Object.values(SIZE_PRESETS)) {
      validateSizeTable(t);
      for (const e of t) {
        expect([e.global % 8, e.local % 8, e.gram % 8]).toEqual([0, 0, 0]);
        expect(e.gram).toBeGreaterThan(e.global);
        expect(e.local).toBeLessThan(e.global);
      }
    }
    expect(Math.max(...CPU_SIZES.map((e) => e.global))).toBeLessThan(Math.max(...GPU_SIZES.map((e) => e.global)));
  });
  it('fits sides to the patch size and rejects bad tables', () => {
    const t = fitToPatch(REFERENCE_SIZES, 14);
    for (const e of t) expect([e.global % 14, e.local % 14, e.gram % 14]).toEqual([0, 0, 0]);
    expect(t[0]).toEqual({ global: 518, local: 112, gram: 770, p: 0.3 });
    expect(() => validateSizeTable([{ global: 224, local: 64, gram: 448, p: 0.5 }])).toThrow(/sum/);
    expect(() => validateSizeTable([])).toThrow(/empty/);
  });
});

describe('SizeSampler', () => {
  it('draws each triple with its probability (20 000 draws, 5σ)', () => {
    const s = new SizeSampler(REFERENCE_SIZES, 7);
    const n = 20_000;
    const counts = new Array<number>(REFERENCE_SIZES.length).fill(0);
    for (let i = 0; i < n; i++) counts[s.nextIndex()]++;
    REFERENCE_SIZES.forEach((e, i) => {
      const sigma = Math.sqrt((e.p * (1 - e.p)) / n);
      expect(Math.abs(counts[i] / n - e.p)).toBeLessThan(5 * sigma);
    });
  });
  it('is deterministic per seed and resumes from its state', () => {
    const a = new SizeSampler(CPU_SIZES, 3);
    const b = new SizeSampler(CPU_SIZES, 3);
    const da = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(da);
    const resumed = new SizeSampler(CPU_SIZES, a.state());
    const next = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => resumed.next())).toEqual(next);
    const other = new SizeSampler(CPU_SIZES, 4);
    expect(Array.from({ length: 50 }, () => other.next())).not.toEqual(da);
  });
});

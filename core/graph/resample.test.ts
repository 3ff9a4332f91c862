import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dinoScaleFactor, outputSizeForScale, resampleMatrix, resizePlane, type ResampleMode } from './resample.js';

// Fixtures from PyTorch 1.13's F.interpolate, written by scripts/fixtures/resample_fixtures.py.
interface Case {
  in: number;
  out: number;
  mode: ResampleMode;
  antialias: boolean;
  scale: number | null;
  matrix: number[]; // (out, in) row-major
  map: { h: number; w: number; outH: number; outW: number; x: number[]; y: number[] };
}
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/resample.json', import.meta.url)), 'utf8')) as { cases: Case[] };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const label = (c: Case): string =>
  `${c.mode}${c.antialias ? ' aa' : ''} ${c.in}→${c.out} ${c.scale === null ? 'size' : `scale ${c.scale.toFixed(4)}`}`;

describe('resampleMatrix against PyTorch', () => {
  it('has the fixture cases the issue names', () => {
    const names = fixture.cases.map(label);
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const want of ['bicubic 16→37 size', 'bicubic 37→16 size', 'bicubic 37→24 scale', 'bicubic aa 37→16 size', 'bilinear aa 37→16 size']) {
      expect(names.some((n) => n.startsWith(want))).toBe(true);
    }
  });

  for (const c of fixture.cases) {
    it(`${label(c)}: matrix and 2-D map to 1e-6`, () => {
      const opts = { mode: c.mode, antialias: c.antialias, scale: c.scale ?? undefined };
      const m = resampleMatrix(c.in, c.out, opts);
      expect(maxAbsDiff(m, c.matrix)).toBeLessThan(1e-6);
      // The 2-D map: same settings on both axes; PyTorch's output width for a scale factor is floor(w · s).
      const { h, w, outH, outW } = c.map;
      if (c.scale !== null) expect(outputSizeForScale(w, c.scale)).toBe(outW);
      const y = resizePlane(Float64Array.from(c.map.x), h, w, outH, outW, opts);
      expect(maxAbsDiff(y, c.map.y)).toBeLessThan(1e-6);
    });
  }
});

describe('resampleMatrix properties', () => {
  it('rows sum to one (interpolation preserves constants)', () => {
    for (const mode of ['bicubic', 'bilinear'] as const) {
      for (const antialias of [false, true]) {
        const m = resampleMatrix(37, 11, { mode, antialias });
        for (let o = 0; o < 11; o++) {
          let s = 0;
          for (let i = 0; i < 37; i++) s += m[o * 37 + i];
          expect(Math.abs(s - 1)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('is the identity at equal sizes without a scale factor', () => {
    const m = resampleMatrix(9, 9, { mode: 'bicubic' });
    for (let o = 0; o < 9; o++) for (let i = 0; i < 9; i++) expect(m[o * 9 + i]).toBeCloseTo(o === i ? 1 : 0, 14);
  });

  it("computes DINOv2's offset scale factor", () => {
    expect(dinoScaleFactor(37, 24)).toBeCloseTo(24.1 / 37, 15);
    expect(outputSizeForScale(37, dinoScaleFactor(37, 24))).toBe(24);
  });

  it('rejects sizes and scales that are not positive', () => {
    expect(() => resampleMatrix(0, 4, { mode: 'bilinear' })).toThrow(/input size/);
    expect(() => resampleMatrix(4, 2.5, { mode: 'bilinear' })).toThrow(/output size/);
    expect(() => resampleMatrix(4, 4, { mode: 'bilinear', scale: -1 })).toThrow(/scale/);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { Graph } from './graph.js';
import { serialize } from './onnx.js';
import { dinoScaleFactor, outputSizeForScale, resampleMatrix, resize2d, resizePlane, type ResampleMode } from './resample.js';
import { Session } from './runtime.js';
import { type HostTensor, hostTensor } from './tensor.js';

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
    for (const want of [
      'bicubic 16→37 size',
      'bicubic 37→16 size',
      'bicubic 37→24 scale',
      'bicubic aa 37→16 size',
      'bilinear aa 37→16 size',
    ]) {
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
    expect(() => resampleMatrix(37, 25, { mode: 'bicubic', scale: dinoScaleFactor(37, 24) })).toThrow(/maps 37 to 24, not 25/);
  });
});

// resize2d through a real onnxruntime session: forward against PyTorch's maps, backward against Mhᵀ·G·Mw.
describe('resize2d in a graph', () => {
  const picks = fixture.cases.filter(
    (c) =>
      c.in > 1 && ['bicubic 37→24 scale', 'bicubic aa 37→16', 'bilinear aa 37→5', 'bilinear 16→37'].some((p) => label(c).startsWith(p)),
  );

  it('covers the chosen cases', () => expect(picks.length).toBe(4));

  for (const c of picks) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${label(c)} ${dtype}: forward and input gradient`, async () => {
        const { h, w, outH, outW } = c.map;
        const opts = { mode: c.mode, antialias: c.antialias, scaleH: c.scale ?? undefined, scaleW: c.scale ?? undefined };
        const g = new Graph('resize');
        const x = g.input('x', [2, h, w], dtype); // two planes: the fixture map and its double
        const gy = g.input('gy', [2, outH, outW], dtype);
        const y = resize2d(g, x, outH, outW, opts); // (2, outH, outW)
        const [dx] = grad([y], [x], [gy]);
        g.output(y, 'y');
        g.output(dx, 'dx');
        const session = await Session.create(serialize(g));
        try {
          const x0 = Float64Array.from(c.map.x);
          const xs = new Float64Array(2 * h * w);
          xs.set(x0);
          xs.set(
            x0.map((v) => 2 * v),
            h * w,
          );
          const gys = Float64Array.from({ length: 2 * outH * outW }, (_, i) => Math.sin(i * 0.37) + 0.1);
          const feed = (a: Float64Array, dims: number[]): HostTensor =>
            hostTensor(dtype, dims, dtype === 'float32' ? Float32Array.from(a) : a);
          const res = await session.run({ x: feed(xs, [2, h, w]), gy: feed(gys, [2, outH, outW]) });
          const tol = dtype === 'float64' ? 1e-9 : 1e-5;
          const ys = res.y.data as Float32Array | Float64Array;
          expect(maxAbsDiff(ys.subarray(0, outH * outW), c.map.y)).toBeLessThan(tol);
          expect(
            maxAbsDiff(
              ys.subarray(outH * outW),
              c.map.y.map((v) => 2 * v),
            ),
          ).toBeLessThan(2 * tol);
          // dX = Mhᵀ · G · Mw per plane, computed directly from the matrices.
          const mh = resampleMatrix(h, outH, { mode: c.mode, antialias: c.antialias, scale: opts.scaleH });
          const mw = resampleMatrix(w, outW, { mode: c.mode, antialias: c.antialias, scale: opts.scaleW });
          const want = new Float64Array(2 * h * w);
          for (let b = 0; b < 2; b++)
            for (let o = 0; o < outH; o++)
              for (let p = 0; p < outW; p++) {
                const gv = gys[b * outH * outW + o * outW + p];
                for (let i = 0; i < h; i++) {
                  const a = mh[o * h + i] * gv;
                  if (a !== 0) for (let j = 0; j < w; j++) want[b * h * w + i * w + j] += a * mw[p * w + j];
                }
              }
          expect(maxAbsDiff(res.dx.data as Float32Array | Float64Array, want)).toBeLessThan(tol * 10);
        } finally {
          await session.release();
        }
      });
    }
  }

  it('rejects non-float inputs', () => {
    const g = new Graph('resize');
    expect(() => resize2d(g, g.input('m', [4, 4], 'int64'), 2, 2, { mode: 'bilinear' })).toThrow(/float32 or float64/);
  });
});

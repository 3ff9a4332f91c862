// Gram anchoring loss through real onnxruntime sessions: exact zero on identical features, float64
// finite differences for the student gradient, and a direct float64 TypeScript reference (incl. a 2× teacher grid
// and a teacher wider than the student, as distillation's patch-similarity term has).
import { describe, expect, it } from 'vitest';
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { mulberry32 } from '../../common/random.js';
import { resizePlane } from '../../graph/resample.js';
import { Session } from '../../graph/runtime.js';
import { type DType, type HostTensor, hostTensor } from '../../graph/tensor.js';
import { vitConfig } from '../../model/config.js';
import { initParams, toGraphLayout } from '../../model/params.js';
import { buildViT } from '../../model/vit.js';
import { type GramGrids, gramLoss } from './loss.js';

function randomData(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => 2 * r() - 1);
}

/** Builds the loss (and the student gradient) as one ORT session. */
async function lossSession(
  b: number,
  d: number,
  grids: GramGrids,
  dtype: 'float32' | 'float64',
  withGrad: boolean,
  dt = d,
): Promise<Session> {
  const g = new Graph('gram');
  const s = g.input('student', [b, grids.student.h * grids.student.w, d], dtype);
  const t = g.input('teacher', [b, grids.teacher.h * grids.teacher.w, dt], dtype);
  const loss = gramLoss(g, s, t, grids);
  g.output(loss, 'loss');
  if (withGrad) {
    const [ds, dt] = grad(loss, [s, t]);
    g.output(ds, 'd_student');
    g.output(dt, 'd_teacher');
  }
  return Session.create(serialize(g));
}

/** Direct float64 reference: resize the teacher per channel, normalise, Gram, mean squared difference (the
 * teacher of width dt). */
function referenceLoss(s: Float64Array, t: Float64Array, b: number, d: number, grids: GramGrids, dt = d): number {
  const { h: sh, w: sw } = grids.student;
  const { h: th, w: tw } = grids.teacher;
  const n = sh * sw;
  const nt = th * tw;
  let total = 0;
  for (let bi = 0; bi < b; bi++) {
    const xs = s.slice(bi * n * d, (bi + 1) * n * d); // (N, D)
    const xt = new Float64Array(n * dt); // (N, Dt) after resizing
    for (let c = 0; c < dt; c++) {
      const plane = new Float64Array(nt);
      for (let k = 0; k < nt; k++) plane[k] = t[(bi * nt + k) * dt + c];
      const r = th === sh && tw === sw ? plane : resizePlane(plane, th, tw, sh, sw, { mode: 'bicubic' });
      for (let k = 0; k < n; k++) xt[k * dt + c] = r[k];
    }
    for (const [x, w] of [
      [xs, d],
      [xt, dt],
    ] as const) {
      for (let i = 0; i < n; i++) {
        let nn = 0;
        for (let c = 0; c < w; c++) nn += x[i * w + c] ** 2;
        const inv = 1 / Math.max(Math.sqrt(nn), 1e-12);
        for (let c = 0; c < w; c++) x[i * w + c] *= inv;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let gs = 0;
        let gt = 0;
        for (let c = 0; c < d; c++) gs += xs[i * d + c] * xs[j * d + c];
        for (let c = 0; c < dt; c++) gt += xt[i * dt + c] * xt[j * dt + c];
        total += (gs - gt) ** 2;
      }
    }
  }
  return total / (b * n * n);
}

function feeds(dtype: DType, s: Float64Array, t: Float64Array, b: number, d: number, grids: GramGrids, dt = d): Record<string, HostTensor> {
  const conv = (x: Float64Array): Float32Array | Float64Array => (dtype === 'float32' ? Float32Array.from(x) : x);
  return {
    student: hostTensor(dtype, [b, grids.student.h * grids.student.w, d], conv(s)),
    teacher: hostTensor(dtype, [b, grids.teacher.h * grids.teacher.w, dt], conv(t)),
  };
}

describe('gramLoss', () => {
  it('is exactly zero when student and teacher are the same features at the same grid (float32 and float64)', async () => {
    const grids: GramGrids = { student: { h: 4, w: 5 }, teacher: { h: 4, w: 5 } };
    const x = randomData(2 * 20 * 16, 1);
    for (const dtype of ['float32', 'float64'] as const) {
      const sess = await lossSession(2, 16, grids, dtype, false);
      const out = await sess.run(feeds(dtype, x, x, 2, 16, grids));
      expect(out.loss.data[0]).toBe(0);
      await sess.release();
    }
  });

  it('matches a direct float64 computation, same grid and a 2× teacher grid', async () => {
    const cases: [GramGrids, number][] = [
      [{ student: { h: 3, w: 4 }, teacher: { h: 3, w: 4 } }, 0],
      [{ student: { h: 3, w: 4 }, teacher: { h: 6, w: 8 } }, 1],
      [{ student: { h: 4, w: 4 }, teacher: { h: 7, w: 6 } }, 2],
    ];
    for (const [grids, seed] of cases) {
      const b = 2;
      const d = 5;
      const s = randomData(b * grids.student.h * grids.student.w * d, 10 + seed);
      const t = randomData(b * grids.teacher.h * grids.teacher.w * d, 20 + seed);
      const sess = await lossSession(b, d, grids, 'float64', false);
      const got = (await sess.run(feeds('float64', s, t, b, d, grids))).loss.data[0] as number;
      const want = referenceLoss(s, t, b, d, grids);
      expect(want).toBeGreaterThan(1e-3);
      expect(Math.abs(got - want)).toBeLessThan(1e-12 * Math.max(1, want));
      await sess.release();
    }
  });

  it('takes a teacher wider than the student (distillation): matches the float64 reference, same and 2× grid', async () => {
    const cases: GramGrids[] = [
      { student: { h: 3, w: 4 }, teacher: { h: 3, w: 4 } },
      { student: { h: 3, w: 4 }, teacher: { h: 6, w: 8 } },
    ];
    for (const [k, grids] of cases.entries()) {
      const [b, d, dt] = [2, 4, 9];
      const s = randomData(b * grids.student.h * grids.student.w * d, 40 + k);
      const t = randomData(b * grids.teacher.h * grids.teacher.w * dt, 50 + k);
      const sess = await lossSession(b, d, grids, 'float64', false, dt);
      const got = (await sess.run(feeds('float64', s, t, b, d, grids, dt))).loss.data[0] as number;
      const want = referenceLoss(s, t, b, d, grids, dt);
      expect(want).toBeGreaterThan(1e-3);
      expect(Math.abs(got - want)).toBeLessThan(1e-12 * Math.max(1, want));
      await sess.release();
    }
  });

  it('student gradient passes a float64 finite-difference check; the teacher gets none', async () => {
    const grids: GramGrids = { student: { h: 2, w: 3 }, teacher: { h: 4, w: 6 } };
    const b = 2;
    const d = 4;
    const s = randomData(b * 6 * d, 31);
    const t = randomData(b * 24 * d, 32);
    const sess = await lossSession(b, d, grids, 'float64', true);
    const f = feeds('float64', s, t, b, d, grids);
    const res = await sess.run(f);
    const analytic = Float64Array.from(res.d_student.data as Float64Array);
    expect((res.d_teacher.data as Float64Array).every((v) => v === 0)).toBe(true);
    const x = f.student.data as Float64Array;
    const h = 1e-6;
    let worst = 0;
    for (let k = 0; k < x.length; k++) {
      const x0 = x[k];
      x[k] = x0 + h;
      const lp = (await sess.run(f, ['loss'])).loss.data[0] as number;
      x[k] = x0 - h;
      const lm = (await sess.run(f, ['loss'])).loss.data[0] as number;
      x[k] = x0;
      const fd = (lp - lm) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - analytic[k]) / Math.max(1, Math.abs(fd)));
    }
    expect(analytic.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    expect(worst).toBeLessThan(1e-7);
    await sess.release();
  });

  it('rejects patches that do not fit the grids', () => {
    const g = new Graph();
    const s = g.input('s', [1, 6, 4], 'float64');
    const t = g.input('t', [1, 6, 4], 'float64');
    expect(() => gramLoss(g, s, t, { student: { h: 2, w: 2 }, teacher: { h: 2, w: 3 } })).toThrow(/student/);
  });
});

describe('gramLoss on a real ViT', () => {
  it('is exactly zero when student and Gram teacher are the same model at the same resolution, positive at 2×', async () => {
    const c = vitConfig('tiny', { arch: 'dinov3', dim: 48, heads: 3, depth: 2 });
    const b = 2;
    const g = new Graph('gram_vit');
    const images = g.input('images', [b, 3, 64, 64], 'float32');
    const big = g.input('images_2x', [b, 3, 128, 128], 'float32');
    const student = buildViT(g, images, c, { remat: true });
    const teacherParams = Object.fromEntries(
      Object.entries(student.params).map(([k, t]) => [k, g.input(`teacher/${k}`, t.shape, 'float32')]),
    );
    const same = buildViT(g, images, c, { params: teacherParams });
    const high = buildViT(g, big, c, { params: teacherParams });
    const grid = { h: 4, w: 4 };
    g.output(gramLoss(g, student.patches, same.patches, { student: grid, teacher: grid }), 'same');
    g.output(gramLoss(g, student.patches, high.patches, { student: grid, teacher: { h: 8, w: 8 } }), 'high');
    const s = await Session.create(serialize(g));
    const values = initParams(c, 5);
    const feeds: Record<string, HostTensor> = {};
    for (const k of Object.keys(student.params)) {
      feeds[k] = toGraphLayout(k, values[k]);
      feeds[`teacher/${k}`] = toGraphLayout(k, values[k]);
    }
    const r = mulberry32(8);
    feeds.images = hostTensor(
      'float32',
      [b, 3, 64, 64],
      Float32Array.from({ length: b * 3 * 64 * 64 }, () => r() - 0.5),
    );
    feeds.images_2x = hostTensor(
      'float32',
      [b, 3, 128, 128],
      Float32Array.from({ length: b * 3 * 128 * 128 }, () => r() - 0.5),
    );
    const out = await s.run(feeds);
    expect(out.same.data[0]).toBe(0);
    expect(out.high.data[0] as number).toBeGreaterThan(0);
    await s.release();
  });
});

// AdamW (with clipping and per-parameter multipliers) and EMA against hand computations, run through
// onnxruntime with StepRunner feeding the state back.
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { type AdamWStep, type ParamGroup, adamw, ema } from './optim.js';
import { adamwPerTensor } from './optim-per-tensor.js';
import { optimize } from './optimize.js';
import { serialize } from './onnx.js';
import { Session, StepRunner } from './runtime.js';
import { hostTensor } from './tensor.js';

/** torch.optim.AdamW's update in float64, for one parameter tensor. */
function adamwRef(p: number[], g: number[], m: number[], v: number[], t: number, lr: number, wd: number): void {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let i = 0; i < p.length; i++) {
    p[i] *= 1 - lr * wd;
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
    p[i] -= (lr / (1 - b1 ** t)) * (m[i] / denom);
  }
}

describe('in-graph optimisers', () => {
  it('two AdamW steps with clipping and per-parameter multipliers match a hand computation', async () => {
    const g = new Graph('opt');
    const a = g.param('a', [3]);
    const b = g.param('b', [2]);
    const ga = g.input('ga', [3]);
    const gb = g.input('gb', [2]);
    const gc = g.input('gc', [2]);
    const c = g.param('c', [2]);
    const opt = adamw(g, [
      { name: 'main', params: [a, b], grads: [ga, gb], lrMult: [1, 0.5], wdMult: [1, 0], maxNorm: 1 },
      { name: 'other', params: [c], grads: [gc] },
    ]);
    const s = await Session.create(serialize(g));
    const run = new StepRunner(s, opt.stateMap);
    for (const [k, v] of Object.entries(opt.initialState())) run.set(k, v);
    const P = { a: [0.5, -1, 2], b: [0.1, 0.2], c: [1, -1] };
    run.set('a', hostTensor('float32', [3], P.a));
    run.set('b', hostTensor('float32', [2], P.b));
    run.set('c', hostTensor('float32', [2], P.c));
    const M = { a: [0, 0, 0], b: [0, 0], c: [0, 0] };
    const V = { a: [0, 0, 0], b: [0, 0], c: [0, 0] };
    const ref = { a: [...P.a], b: [...P.b], c: [...P.c] };
    const grads = [
      { a: [3, 0, -4], b: [1, 2], c: [0.5, -0.25] }, // norm of main = √30 > 1: clipped
      { a: [0.1, 0.2, 0.3], b: [-0.1, 0.05], c: [1, 1] }, // norm < 1: unclipped
    ];
    const [lr, wd] = [0.01, 0.05];
    for (let t = 1; t <= 2; t++) {
      const gr = grads[t - 1];
      const out = await run.step({
        ga: hostTensor('float32', [3], gr.a),
        gb: hostTensor('float32', [2], gr.b),
        gc: hostTensor('float32', [2], gr.c),
        'optim/lr': hostTensor('float32', [], [lr]),
        'optim/wd': hostTensor('float32', [], [wd]),
      });
      const norm = Math.hypot(...gr.a, ...gr.b);
      expect((out['optim/grad_norm/main'].data as Float32Array)[0]).toBeCloseTo(norm, 5);
      const scale = Math.min(1, 1 / (norm + 1e-6));
      adamwRef(
        ref.a,
        gr.a.map((x) => x * scale),
        M.a,
        V.a,
        t,
        lr,
        wd,
      );
      adamwRef(
        ref.b,
        gr.b.map((x) => x * scale),
        M.b,
        V.b,
        t,
        lr * 0.5,
        0,
      );
      adamwRef(ref.c, gr.c, M.c, V.c, t, lr, wd);
    }
    for (const k of ['a', 'b', 'c'] as const) {
      const got = Array.from((await run.get(k)).data as Float32Array);
      got.forEach((x, i) => expect(x, `${k}[${i}]`).toBeCloseTo(ref[k][i], 6));
    }
    expect(((await run.get('optim/step')).data as Float32Array)[0]).toBe(2);
    // The moments live in one flat buffer per group; per tensor they are what checkpoints keep.
    const moments = opt.perTensor(new Map(await Promise.all(opt.stateNames.map(async (n) => [n, await run.get(n)] as const))));
    Array.from(moments.get('adam_m/a')!.data as Float32Array).forEach((x, i) => expect(x).toBeCloseTo(M.a[i], 6));
    Array.from(moments.get('adam_v/c')!.data as Float32Array).forEach((x, i) => expect(x).toBeCloseTo(V.c[i], 6));
    await s.release();
  });

  it('flat buffers equal the per-tensor AdamW (clipping, lr and λ multipliers, a run-time lr gate) over 4 steps', async () => {
    // Two groups as the trainer builds them: a "backbone" with per-tensor lr and λ multipliers, and a "head"
    // whose last tensor has a run-time lr gate (0 while frozen: moments still move, no update, no decay).
    const shapes: Record<string, number[]> = { a: [2, 3], b: [3], c: [4, 2], d: [2], e: [3, 2] };
    const build = (opt: typeof adamw): { run: Promise<StepRunner>; o: AdamWStep } => {
      const g = new Graph('opt');
      const gate = g.input('gate', []);
      const ps = Object.fromEntries(Object.entries(shapes).map(([k, sh]) => [k, g.param(k, sh)]));
      const gs = Object.fromEntries(Object.entries(shapes).map(([k, sh]) => [k, g.input(`g_${k}`, sh)]));
      const groups: ParamGroup[] = [
        { name: 'backbone', params: [ps.a, ps.b, ps.c], grads: [gs.a, gs.b, gs.c], lrMult: [0.5, 0.5, 1], wdMult: [1, 0, 1], maxNorm: 2 },
        { name: 'head', params: [ps.d, ps.e], grads: [gs.d, gs.e], wdMult: [0, 1], lrScale: [null, gate], maxNorm: 2 },
      ];
      const o = opt(g, groups, { beta1: 0.9, beta2: 0.99 });
      optimize(g);
      return { run: Session.create(serialize(g)).then((s) => new StepRunner(s, o.stateMap)), o };
    };
    const flat = build(adamw);
    const ref = build(adamwPerTensor);
    const [rf, rr] = [await flat.run, await ref.run];
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2;
    for (const [k, sh] of Object.entries(shapes)) {
      const v = hostTensor('float32', sh, Array.from({ length: sh.reduce((x, y) => x * y, 1) }, rnd));
      rf.set(k, v);
      rr.set(k, v);
    }
    for (const [k, v] of Object.entries(flat.o.initialState())) rf.set(k, v);
    for (const [k, v] of Object.entries(ref.o.initialState())) rr.set(k, v);
    expect(flat.o.stateNames).toEqual([
      'optim/step',
      'optim/adam_m/backbone',
      'optim/adam_v/backbone',
      'optim/adam_m/head',
      'optim/adam_v/head',
    ]);
    for (const [t, gateValue] of [0, 0, 1, 1].entries()) {
      const feeds: Record<string, ReturnType<typeof hostTensor>> = {
        gate: hostTensor('float32', [], [gateValue]),
        'optim/lr': hostTensor('float32', [], [0.05 / (t + 1)]),
        'optim/wd': hostTensor('float32', [], [0.1]),
      };
      for (const [k, sh] of Object.entries(shapes))
        feeds[`g_${k}`] = hostTensor(
          'float32',
          sh,
          Array.from({ length: sh.reduce((x, y) => x * y, 1) }, () => rnd() * (t + 1)),
        );
      const [of, or] = [await rf.step(feeds), await rr.step(feeds)];
      for (const n of ['optim/grad_norm/backbone', 'optim/grad_norm/head'])
        expect((of[n].data as Float32Array)[0]).toBeCloseTo((or[n].data as Float32Array)[0], 5);
    }
    const close = (a: Float32Array, b: Float32Array, what: string): void =>
      b.forEach((y, i) => expect(Math.abs(a[i] - y), `${what}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(y))));
    for (const k of Object.keys(shapes)) close((await rf.get(k)).data as Float32Array, (await rr.get(k)).data as Float32Array, k);
    const state = async (r: StepRunner, o: AdamWStep): Promise<Map<string, ReturnType<typeof hostTensor>>> =>
      o.perTensor(new Map(await Promise.all(o.stateNames.map(async (n) => [n, await r.get(n)] as const))));
    const [sf, sr] = [await state(rf, flat.o), await state(rr, ref.o)];
    expect([...sf.keys()].sort()).toEqual([...sr.keys()].sort());
    for (const [k, v] of sr) close(sf.get(k)!.data as Float32Array, v.data as Float32Array, k);
    // The per-tensor form (what checkpoints keep) converts back to the flat state; a missing tensor is named.
    expect([...flat.o.fromPerTensor(sf).keys()]).toEqual(flat.o.stateNames);
    expect(() => flat.o.fromPerTensor(new Map([...sf].filter(([k]) => k !== 'adam_v/c')))).toThrow(/second moments.*no value for c/);
    await Promise.all([rf.session.release(), rr.session.release()]);
  });

  it('EMA: teacher ← μ·teacher + (1 − μ)·student, state fed back across runs', async () => {
    const g = new Graph('ema');
    const teacher = g.input('teacher/w', [4]);
    const student = g.input('student/w', [4]);
    const e = ema([teacher], [student]);
    const s = await Session.create(serialize(g));
    const run = new StepRunner(s, e.stateMap);
    run.set('teacher/w', hostTensor('float32', [4], [0, 1, 2, 3]));
    const st = [1, 1, 1, 1];
    let ref = [0, 1, 2, 3];
    for (const mu of [0.9, 0.99]) {
      await run.step({ 'student/w': hostTensor('float32', [4], st), 'ema/momentum': hostTensor('float32', [], [mu]) });
      ref = ref.map((x, i) => mu * x + (1 - mu) * st[i]);
    }
    Array.from((await run.get('teacher/w')).data as Float32Array).forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
    await s.release();
  });
});

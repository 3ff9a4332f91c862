// AdamW (with clipping and per-parameter multipliers) and EMA against hand computations, run through
// onnxruntime with StepRunner feeding the state back.
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { adamw, ema } from './optim.js';
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
    Array.from((await run.get('adam_m/a')).data as Float32Array).forEach((x, i) => expect(x).toBeCloseTo(M.a[i], 6));
    await s.release();
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

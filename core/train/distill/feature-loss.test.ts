// The feature-regression term of distillation: its value against plain float64 code, its float64 gradient
// against finite differences (through our autodiff and onnxruntime), and the teacher projection it targets
// (centred, whitened on the top ⌈D_s / 2⌉ components, zero beyond).
import { describe, expect, it } from 'vitest';
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { mulberry32 } from '../../common/random.js';
import { type TeacherProjection, featureComponents, featureDistilLoss, fitTeacherProjection, projectTokens } from './feature-loss.js';

const rand = (n: number, seed: number): number[] => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
};
const f64 = (dims: number[], data: number[]): HostTensor => hostTensor('float64', dims, data);
const num = (t: HostTensor): number[] => Array.from(t.data as Float64Array);

/** The targets (t − μ) P of tokens (n, Dt) in float64 JS: the oracle of the graph's projectTokens. */
function projectTeacher(p: TeacherProjection, tokens: Float32Array): Float64Array {
  const { teacherDim: dt, studentDim: ds, mean, projection } = p;
  const n = tokens.length / dt;
  const out = new Float64Array(n * ds);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < dt; j++) {
      const x = tokens[r * dt + j] - mean[j];
      for (let c = 0; c < ds; c++) out[r * ds + c] += x * projection[j * ds + c];
    }
  return out;
}

const [B, N, D] = [2, 3, 4];
const s = rand(B * N * D, 1);
const t = rand(B * N * D, 2);

function build(): Graph {
  const g = new Graph('feature');
  const x = g.input('s', [B, N, D], 'float64');
  const y = g.input('t', [B, N, D], 'float64');
  const loss = featureDistilLoss(x, y);
  g.output(loss, 'loss');
  g.output(grad(loss, [x])[0], 'grad');
  return g;
}

describe('feature-regression loss', () => {
  it('is the mean cosine distance over positions', async () => {
    const sess = await Session.create(serialize(build()));
    const out = await sess.run({ s: f64([B, N, D], s), t: f64([B, N, D], t) });
    let want = 0;
    for (let i = 0; i < B * N; i++) {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let j = 0; j < D; j++) {
        ab += s[i * D + j] * t[i * D + j];
        aa += s[i * D + j] ** 2;
        bb += t[i * D + j] ** 2;
      }
      want += 1 - ab / Math.sqrt(aa * bb);
    }
    expect(num(out.loss)[0]).toBeCloseTo(want / (B * N), 12);
    await sess.release();
  });

  it('float64 gradient matches finite differences', async () => {
    const sess = await Session.create(serialize(build()));
    const feeds = { s: f64([B, N, D], s), t: f64([B, N, D], t) };
    const analytic = num((await sess.run(feeds)).grad);
    const h = 1e-6;
    for (let i = 0; i < s.length; i++) {
      const at = async (d: number): Promise<number> => {
        const y = [...s];
        y[i] += d;
        return num((await sess.run({ ...feeds, s: f64([B, N, D], y) }, ['loss'])).loss)[0];
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      expect(Math.abs(fd - analytic[i]), `d loss / d s[${i}]`).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
    }
    await sess.release();
  });

  it('targets the centred teacher tokens whitened on their top components, in the graph as in float64 JS', async () => {
    const [n, dt, ds] = [400, 6, 4];
    const r = mulberry32(9);
    // Tokens with very different spreads along the axes and a shared offset.
    const scales = [5, 3, 1, 0.5, 0.2, 0.1];
    const data = Float32Array.from({ length: n * dt }, (_, i) => 7 + scales[i % dt] * (2 * r() - 1));
    const tokens = hostTensor('float32', [n, dt], data);
    const p = fitTeacherProjection(tokens, ds);
    const k = featureComponents(ds, dt);
    expect(k).toBe(2);
    const y = projectTeacher(p, data);
    for (let c = 0; c < ds; c++) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < n; i++) m += y[i * ds + c] / n;
      for (let i = 0; i < n; i++) v += (y[i * ds + c] - m) ** 2 / (n - 1);
      expect(Math.abs(m)).toBeLessThan(1e-4); // centred
      if (c < k)
        expect(v).toBeCloseTo(1, 3); // whitened
      else expect(v).toBe(0); // the student's other dimensions regress to 0
    }
    // The step graph's projection (projectTokens) gives the same targets.
    const g = new Graph('project');
    const tk = g.input('t', [1, n, dt]);
    g.output(projectTokens(tk, g.input('m', [dt]), g.input('p', [dt, ds])), 'y');
    const sess = await Session.create(serialize(g));
    const out = await sess.run({
      t: hostTensor('float32', [1, n, dt], data),
      m: hostTensor('float32', [dt], p.mean),
      p: hostTensor('float32', [dt, ds], p.projection),
    });
    await sess.release();
    const yg = out.y.data as Float32Array;
    let worst = 0;
    yg.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]))));
    expect(worst).toBeLessThan(1e-4);
  });
});

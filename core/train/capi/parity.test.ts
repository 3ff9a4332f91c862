// Our CAPI pieces against the official code (fixtures/official-capi.py runs facebookresearch/capi's model.py
// in float64 on a tiny random model): the online clustering head (positionwise Sinkhorn-Knopp assignments,
// its loss and gradients), the predictor's output, the student head's logits, the CAPI loss and the
// gradients of every predictor parameter and of the context, all within 1e-4 relative; the RoPE frequencies
// and context coordinates our host code computes equal the official ones. Then float64 finite differences
// of each new graph builder's gradient.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import { mul } from '../../graph/ops/elementwise.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, type Tensor, hostTensor } from '../../graph/tensor.js';
import { mulberry32 } from '../../common/random.js';
import { clusterCrossEntropy, clusteringLogits, onlineClustering } from './clustering.js';
import { type PredictorConfig, predictor, predictorGraphShape, predictorParamSpecs, rmsNorm, rotary, studentHead } from './predictor.js';
import { contextCoords, patchCoord, prefixCoords, ropeFreqs, ropeTables } from './rope-coords.js';

interface Fx {
  shape: number[];
  data: number[];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/official-capi.json', import.meta.url), 'utf8')) as {
  clustering: Record<'x' | 'weight' | 'bias' | 'assignments' | 'gradWeight' | 'gradBias', Fx> & { loss: number };
  predictor: {
    dim: number;
    heads: number;
    depth: number;
    registers: number;
    grid: number;
    prototypes: number;
    temp: number;
    eps: number;
    ropeFreqs: Fx;
    visibleIndices: number[];
    predictIndices: number[];
    coordsContext: Fx;
    coordsPredict: Fx;
    context: Fx;
    params: Record<string, Fx>;
    output: Fx;
    logits: Fx;
    target: Fx;
    loss: number;
    grads: Record<string, Fx>;
    gradContext: Fx;
  };
};

const f64 = (f: Fx): HostTensor => hostTensor('float64', f.shape, f.data);
const num = (t: HostTensor): number[] => Array.from(t.data as Float64Array);
/** (r, c) row-major → (c, r). */
const t2 = (data: readonly number[], r: number, c: number): number[] => {
  const out = new Array<number>(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
  return out;
};

/** max |ours − official| ≤ tol · max |official|. */
function close(ours: readonly number[], official: readonly number[], what: string, tol = 1e-4): void {
  expect(ours.length, what).toBe(official.length);
  const scale = Math.max(...official.map(Math.abs), 1e-30);
  const err = Math.max(...ours.map((v, i) => Math.abs(v - official[i])));
  expect(err / scale, `${what}: max error ${err} of scale ${scale}`).toBeLessThan(tol);
}

async function run(g: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.create(serialize(g));
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('online clustering head = official OnlineClustering', () => {
  it('assignments, loss and the head gradients within 1e-4', async () => {
    const c = fx.clustering;
    const [P, B, D] = c.x.shape;
    const K = c.weight.shape[0];
    const g = new Graph('clustering');
    const x = g.input('x', [P, B, D], 'float64'); // official layout (positions, batch, D)
    const w = g.input('w', [D, K], 'float64');
    const b = g.input('b', [K], 'float64');
    const out = onlineClustering(transpose(x, [1, 0, 2]), w, b); // ours takes (batch, positions, D)
    g.output(transpose(out.assignments, [1, 0, 2]), 'assignments');
    g.output(out.loss, 'loss');
    const [gw, gb] = grad(out.loss, [w, b]);
    g.output(gw, 'gw');
    g.output(gb, 'gb');
    const r = await run(g, { x: f64(c.x), w: hostTensor('float64', [D, K], t2(c.weight.data, K, D)), b: f64(c.bias) });
    close(num(r.assignments), c.assignments.data, 'assignments');
    close(num(r.loss), [c.loss], 'loss');
    close(num(r.gw), t2(c.gradWeight.data, K, D), 'd loss / d weight');
    close(num(r.gb), c.gradBias.data, 'd loss / d bias');
  });
});

describe('predictor, student head and CAPI loss = official decoder, L2NormLinear and do_student', () => {
  const p = fx.predictor;
  const cfg: PredictorConfig = { dim: p.dim, heads: p.heads, depth: p.depth, prototypes: p.prototypes, eps: p.eps };
  const [B, T] = p.context.shape;
  const nq = p.coordsPredict.shape[1];
  const N = p.grid * p.grid;
  const hd = p.dim / p.heads;

  it('RoPE frequencies and coordinates as the official code computes them', () => {
    close(Array.from(ropeFreqs(hd)), p.ropeFreqs.data, 'freqs', 1e-9);
    const visible = Array.from({ length: B }, (_, b) => p.visibleIndices.filter((i) => Math.floor(i / N) === b).map((i) => i % N));
    const ctx = visible.flatMap((v) => contextCoords(v, p.grid, p.grid, prefixCoords(p.registers, false)).flat());
    close(ctx, p.coordsContext.data, 'context coords', 1e-9);
    close(
      p.predictIndices.flatMap((i) => patchCoord(i % N, p.grid, p.grid)),
      p.coordsPredict.data,
      'predicted coords',
      1e-9,
    );
  });

  it('output, logits, loss and every gradient within 1e-4', async () => {
    const g = new Graph('predictor');
    const specs = predictorParamSpecs(cfg);
    const params: Record<string, Tensor> = {};
    const feeds: Record<string, HostTensor> = {};
    for (const s of specs) {
      params[s.name] = g.input(`p/${s.name}`, predictorGraphShape(s), 'float64');
      const v = p.params[s.name].data;
      feeds[`p/${s.name}`] = hostTensor('float64', predictorGraphShape(s), s.transposed ? t2(v, s.shape[0], s.shape[1]) : v);
    }
    const context = g.input('context', [B, T, p.dim], 'float64');
    const tab = (name: string, n: number): Tensor => g.input(name, [B, 1, n, hd], 'float64');
    const [qCos, qSin, kCos, kSin] = [tab('qcos', nq), tab('qsin', nq), tab('kcos', T), tab('ksin', T)];
    const rows = (f: Fx, n: number): number[][][] =>
      Array.from({ length: B }, (_, b) => Array.from({ length: n }, (_, i) => f.data.slice((b * n + i) * 2, (b * n + i) * 2 + 2)));
    const freqs = ropeFreqs(hd);
    const q = ropeTables(rows(p.coordsPredict, nq), freqs, 'float64');
    const k = ropeTables(rows(p.coordsContext, T), freqs, 'float64');
    Object.assign(feeds, {
      context: f64(p.context),
      qcos: q.cos,
      qsin: q.sin,
      kcos: k.cos,
      ksin: k.sin,
      target: f64(p.target),
    });
    const out = predictor(g, { context, queries: nq, qCos, qSin, kCos, kSin }, cfg, params);
    const logits = studentHead(reshape(out, [B * nq, p.dim]), params);
    const target = g.input('target', [B * nq, p.prototypes], 'float64');
    const loss = clusterCrossEntropy(logits, target, p.temp);
    g.output(out, 'output');
    g.output(logits, 'logits');
    g.output(loss, 'loss');
    const wrt = [...specs.map((s) => params[s.name]), context];
    grad(loss, wrt).forEach((d, i) => g.output(d, `grad/${i}`));
    const r = await run(g, feeds);
    close(num(r.output), p.output.data, 'predictor output');
    close(num(r.logits), p.logits.data, 'logits');
    close(num(r.loss), [p.loss], 'loss');
    specs.forEach((s, i) => {
      const d = num(r[`grad/${i}`]);
      close(s.transposed ? t2(d, s.shape[1], s.shape[0]) : d, p.grads[s.name].data, `d loss / d ${s.name}`);
    });
    close(num(r[`grad/${specs.length}`]), p.gradContext.data, 'd loss / d context');
  });
});

/** Central differences of Σ y·weights against the graph's gradient, for each input of `inputs`. */
async function fdCheck(build: (g: Graph, xs: Tensor[]) => Tensor, shapes: number[][], seed: number, tol = 1e-6): Promise<void> {
  const r = mulberry32(seed);
  const g = new Graph('fd');
  const xs = shapes.map((s, i) => g.input(`x${i}`, s, 'float64'));
  const y = build(g, xs);
  const wts = g.input('wts', y.shape, 'float64');
  const loss = reduceSum(mul(y, wts));
  g.output(loss, 'loss');
  grad(loss, xs).forEach((d, i) => g.output(d, `d${i}`));
  const feeds: Record<string, HostTensor> = {};
  shapes.forEach(
    (s, i) =>
      (feeds[`x${i}`] = hostTensor(
        'float64',
        s,
        Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1),
      )),
  );
  feeds.wts = hostTensor(
    'float64',
    y.shape,
    Array.from({ length: y.size }, () => 2 * r() - 1),
  );
  const s = await Session.create(serialize(g));
  try {
    const base = await s.run(feeds);
    for (let i = 0; i < shapes.length; i++) {
      const x = num(feeds[`x${i}`]);
      const analytic = num(base[`d${i}`]);
      const h = 1e-6;
      for (let j = 0; j < x.length; j++) {
        const at = async (d: number): Promise<number> => {
          const v = [...x];
          v[j] += d;
          return num((await s.run({ ...feeds, [`x${i}`]: hostTensor('float64', shapes[i], v) }, ['loss'])).loss)[0];
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        expect(Math.abs(fd - analytic[j]), `d/dx${i}[${j}]: fd ${fd} vs ${analytic[j]}`).toBeLessThan(tol * Math.max(1, Math.abs(fd)));
      }
    }
  } finally {
    await s.release();
  }
}

describe('float64 finite differences of the new builders', () => {
  it('rmsNorm (with and without weight)', async () => {
    await fdCheck((_, [x, w]) => rmsNorm(x, w, 1e-5), [[2, 3, 4], [4]], 1);
    await fdCheck((_, [x]) => rmsNorm(x, null, 1e-5), [[3, 4]], 2);
  });
  it('rotary', async () => {
    await fdCheck(
      (_, [x, c, s]) => rotary(x, c, s),
      [
        [2, 2, 3, 4],
        [2, 1, 3, 4],
        [2, 1, 3, 4],
      ],
      3,
    );
  });
  it('student head (weight-normalised, L2-normalised input)', async () => {
    await fdCheck(
      (_, [x, v, gw]) => studentHead(x, { 'head.weight_v': v, 'head.weight_g': gw }),
      [
        [3, 4],
        [4, 5],
        [1, 5],
      ],
      4,
    );
  });
  it('CAPI cross-entropy and the clustering head loss (the Sinkhorn targets carry no gradient)', async () => {
    await fdCheck(
      (_, [z, t]) => clusterCrossEntropy(z, t, 0.12),
      [
        [3, 5],
        [3, 5],
      ],
      5,
    );
    // The head's loss with its (stopped) targets held fixed, as its gradient treats them.
    await fdCheck((_, [x, w, b, t]) => clusterCrossEntropy(clusteringLogits(x, w, b), t, 0.12), [[3, 2, 4], [4, 5], [5], [3, 2, 5]], 6);
  });
  it('predictor (cross-attention blocks) w.r.t. the context and mask token', async () => {
    const cfg: PredictorConfig = { dim: 8, heads: 2, depth: 1, prototypes: 5, eps: 1e-5 };
    const specs = predictorParamSpecs(cfg);
    await fdCheck(
      (g, [context, qc, qs, kc, ks, mask]) => {
        const params: Record<string, Tensor> = { mask_token: mask };
        const r = mulberry32(9);
        for (const s of specs)
          if (s.name !== 'mask_token') {
            const shape = predictorGraphShape(s);
            params[s.name] = g.constant(
              hostTensor(
                'float64',
                shape,
                Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (2 * r() - 1) * 0.5),
              ),
            );
          }
        return predictor(g, { context, queries: 2, qCos: qc, qSin: qs, kCos: kc, kSin: ks }, cfg, params);
      },
      [
        [2, 3, 8],
        [2, 1, 2, 4],
        [2, 1, 2, 4],
        [2, 1, 3, 4],
        [2, 1, 3, 4],
        [1, 8],
      ],
      7,
    );
  });
});

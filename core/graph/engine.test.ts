// The engine end to end: a small MLP trained in-graph fits sin; float32 against float64; the fused
// LayerNorm/GELU rules against the float64 primitive lowering; CSE/DCE; stopGradient; loud failures;
// execution-provider fallback.
import { describe, expect, it } from 'vitest';
import { grad, stopGradient } from './autodiff.js';
import { Graph } from './graph.js';
import * as op from './ops/index.js';
import { serialize } from './onnx.js';
import { adamw } from './optim.js';
import { optimize } from './optimize.js';
import { Session, StepRunner } from './runtime.js';
import { type DType, type HostTensor, type Tensor, hostTensor } from './tensor.js';
import { mulberry32 as rng } from '../common/random.js';

const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => hostTensor('float32', dims, Float32Array.from(data));

describe('training', () => {
  it('an MLP 1→32→32→1 trained by in-graph AdamW fits sin on [−π, π] to MSE < 2e-3', async () => {
    const g = new Graph('mlp');
    const N = 64;
    const x = g.input('x', [N, 1]);
    const y = g.input('y', [N, 1]);
    const widths = [1, 32, 32, 1];
    const params: Tensor[] = [];
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = g.scope(`fc${l}`, () => {
        const w = g.param('weight', [widths[l], widths[l + 1]]);
        const b = g.param('bias', [widths[l + 1]]);
        params.push(w, b);
        const z = op.add(op.matmul(h, w), b); // (N, out)
        return l < 2 ? op.tanh(z) : z;
      });
    }
    const loss = op.reduceMean(op.pow(op.sub(h, y), 2));
    g.output(loss, 'loss');
    const grads = grad(loss, params);
    const opt = adamw(g, [{ name: 'all', params, grads, wdMult: params.map((_, i) => (i % 2 ? 0 : 1)) }]);
    optimize(g);
    const run = await StepRunner.create(serialize(g), opt.stateMap, { intraOpThreads: 1 });
    for (const [k, v] of Object.entries(opt.initialState())) run.set(k, v);
    const r = rng(7);
    for (const p of params) {
      const fanIn = p.shape.length === 2 ? p.shape[0] : 1;
      run.set(
        p.name,
        f32(
          [...p.shape],
          Array.from({ length: p.size }, () => (p.shape.length === 2 ? (2 * r() - 1) * Math.sqrt(3 / fanIn) : 0)),
        ),
      );
    }
    const xs = Array.from({ length: N }, (_, i) => -Math.PI + (2 * Math.PI * i) / (N - 1));
    const feeds = { x: f32([N, 1], xs), y: f32([N, 1], xs.map(Math.sin)), 'optim/lr': f32([], [0.01]), 'optim/wd': f32([], [1e-4]) };
    let last = Infinity;
    for (let it = 0; it < 600; it++) last = ((await run.step(feeds)).loss.data as Float32Array)[0];
    expect(last).toBeLessThan(2e-3);
    expect(run.session.provider).toBe('cpu');
    await run.session.release();
  });
});

async function evalGrads(
  dtype: DType,
  build: (g: Graph, xs: Tensor[]) => Tensor,
  shapes: number[][],
  data: number[][],
): Promise<number[][]> {
  const g = new Graph();
  const xs = shapes.map((s, i) => g.input(`x${i}`, s, dtype));
  const y = build(g, xs);
  const w = g.constant(
    dtype === 'float64'
      ? hostTensor(
          'float64',
          y.shape,
          Float64Array.from({ length: y.size }, (_, i) => Math.sin(i + 1)),
        )
      : hostTensor(
          'float32',
          y.shape,
          Float32Array.from({ length: y.size }, (_, i) => Math.sin(i + 1)),
        ),
  );
  const loss = op.reduceSum(op.mul(y, w));
  g.output(loss, 'loss');
  grad(loss, xs).forEach((d, i) => g.output(d, `d${i}`));
  const s = await Session.create(serialize(g));
  const feeds: Record<string, HostTensor> = {};
  shapes.forEach(
    (sh, i) => (feeds[`x${i}`] = dtype === 'float64' ? hostTensor('float64', sh, Float64Array.from(data[i])) : f32(sh, data[i])),
  );
  const out = await s.run(feeds);
  await s.release();
  return [[...(out.loss.data as Float64Array)], ...shapes.map((_, i) => Array.from(out[`d${i}`].data as Float64Array))];
}

describe('float32 (fused ops) against float64 (primitive lowerings)', () => {
  const r = rng(99);
  const rand = (n: number, s = 1): number[] => Array.from({ length: n }, () => Math.fround((2 * r() - 1) * s));
  const cases: [string, (g: Graph, xs: Tensor[]) => Tensor, number[][], number[][]][] = [
    [
      'LayerNormalization (fused forward, analytic backward)',
      (_g, [x, gm, b]) => op.layerNorm(x, gm, b, 1e-6),
      [[3, 4, 8], [8], [8]],
      [rand(96, 2), rand(8).map((v) => 1 + 0.2 * v), rand(8)],
    ],
    [
      'LayerNormalization over 80 rows (Gemm-reduced γ, β gradients)',
      (_g, [x, gm, b]) => op.layerNorm(x, gm, b, 1e-6),
      [[4, 20, 8], [8], [8]],
      [rand(640, 2), rand(8).map((v) => 1 + 0.2 * v), rand(8)],
    ],
    ['GELU exact (ONNX Gelu)', (_g, [x]) => op.gelu(x), [[4, 6]], [rand(24, 3)]],
    ['GELU tanh (ONNX Gelu approximate)', (_g, [x]) => op.gelu(x, 'tanh'), [[4, 6]], [rand(24, 3)]],
    ['Erf', (_g, [x]) => op.erf(x), [[4, 6]], [rand(24, 2.5)]],
    [
      'attention + softmax',
      (_g, [q, k, v]) => op.attention(q, k, v),
      [
        [2, 5, 4],
        [2, 5, 4],
        [2, 5, 3],
      ],
      [rand(40), rand(40), rand(30)],
    ],
  ];
  it.each(cases)('%s', async (_name, build, shapes, data) => {
    const a = await evalGrads('float32', build, shapes, data);
    const b = await evalGrads('float64', build, shapes, data);
    a.forEach((arr, k) => {
      const scale = Math.max(...b[k].map(Math.abs), 1e-30);
      const err = Math.max(...arr.map((v, i) => Math.abs(v - b[k][i]))) / scale;
      expect(err, `output ${k}`).toBeLessThan(2e-6);
    });
  });
});

describe('graph mechanics', () => {
  it('CSE and DCE shrink a graph and keep its results', async () => {
    const build = (): Graph => {
      const g = new Graph();
      const x = g.input('x', [2, 3]);
      const a = op.exp(op.mul(x, 2)); // duplicated below
      const b = op.exp(op.mul(x, 2));
      op.log(op.add(x, 5)); // dead
      g.output(op.add(op.tanh(a), op.tanh(b)), 'y');
      return g;
    };
    const feeds = { x: f32([2, 3], [0.1, 0.2, 0.3, -0.1, -0.2, -0.3]) };
    const g0 = build();
    const g1 = build();
    const st = optimize(g1);
    expect(st.merged).toBe(3);
    expect(st.nodesAfter).toBeLessThan(st.nodesBefore - 4);
    const [s0, s1] = [await Session.create(serialize(g0)), await Session.create(serialize(g1))];
    expect(serialize(g1).length).toBeLessThan(serialize(g0).length);
    expect(Array.from((await s1.run(feeds)).y.data as Float32Array)).toEqual(Array.from((await s0.run(feeds)).y.data as Float32Array));
  });

  it('stopGradient blocks the gradient; fan-out gradients accumulate', async () => {
    const g = new Graph();
    const x = g.input('x', [3], 'float64');
    const y = op.add(op.mul(x, x), op.mul(stopGradient(x), x)); // d/dx = 2x + x = 3x
    const [d] = grad(op.reduceSum(y), [x]);
    g.output(d, 'd');
    const s = await Session.create(serialize(g));
    const out = await s.run({ x: hostTensor('float64', [3], [1, -2, 0.5]) });
    expect(Array.from(out.d.data as Float64Array)).toEqual([3, -6, 1.5]);
  });

  it('fails loudly: shape errors name the op; a missing gradient rule names the op', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 3]);
    expect(() => op.add(a, b)).toThrow(/Add: shapes \[2, 3\] and \[4, 3\] do not broadcast/);
    expect(() => op.matmul(a, b)).toThrow(/MatMul: inner dimensions differ/);
    const z = g.op('Sin', [a], {}, a.shape, a.dtype);
    expect(() => grad(op.reduceSum(z), [a])).toThrow(/no gradient rule for Sin/);
  });

  it('no-gradient ops (comparisons, ArgMax, TopK, random masks) run', async () => {
    const g = new Graph();
    const x = g.input('x', [2, 4]);
    const t = op.topK(x, 2, -1);
    g.output(t.values, 'v');
    g.output(t.indices, 'i');
    g.output(op.argMax(x, 1), 'am');
    g.output(op.randomMask(x, 0.5, 3), 'mask');
    g.output(op.cast(op.greater(x, 0), 'float32'), 'pos');
    const s = await Session.create(serialize(g));
    const out = await s.run({ x: f32([2, 4], [1, 5, 3, -1, 0, -2, 7, 6]) });
    expect(Array.from(out.v.data as Float32Array)).toEqual([5, 3, 7, 6]);
    expect(Array.from(out.i.data as BigInt64Array)).toEqual([1n, 2n, 2n, 3n]);
    expect(Array.from(out.am.data as BigInt64Array)).toEqual([1n, 2n]);
    expect(out.mask.dtype).toBe('bool');
    expect(Array.from(out.pos.data as Float32Array)).toEqual([1, 1, 1, 0, 0, 0, 1, 1]);
  });

  it('falls back to CPU with a warning when a requested provider is unavailable', async () => {
    const g = new Graph();
    const x = g.input('x', [2]);
    g.output(op.mul(x, 3), 'y');
    const warnings: string[] = [];
    // A provider this platform's onnxruntime-node build never has (DirectML is Windows-only, CoreML
    // macOS-only): webgpu or cuda would open on a machine with a GPU, and probing them in-process prints
    // native loader errors on stderr.
    const absent = process.platform === 'win32' ? 'coreml' : 'dml';
    const s = await Session.create(serialize(g), { providers: [absent], warn: (m) => warnings.push(m) });
    expect(s.provider).toBe('cpu');
    expect(warnings.join('\n')).toMatch(new RegExp(`${absent} unavailable.*running on cpu`, 's'));
    expect(Array.from((await s.run({ x: f32([2], [1, 2]) })).y.data as Float32Array)).toEqual([3, 6]);
  });
});

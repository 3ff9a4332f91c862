// Every differentiable op: a float64 finite-difference gradient check on random inputs through a real
// onnxruntime session, one line per op (tinygrad style).
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { Graph, type GraphLowering, webgpuLowering } from './graph.js';
import * as op from './ops/index.js';
import { serialize } from './onnx.js';
import { mulberry32 } from '../common/random.js';
import { Session } from './runtime.js';
import { type HostTensor, type Shape, type Tensor, hostTensor, sizeOf } from './tensor.js';

const rng = mulberry32;

interface Case {
  name: string;
  shapes: Shape[];
  f: (...xs: Tensor[]) => Tensor;
  /** Input range (default [-2, 2]); positive ranges for log/sqrt/pow. */
  range?: [number, number];
  tol?: number;
  /** Finite-difference step (default 1e-6; larger where the function goes through float32). */
  h?: number;
  /** Op forms the graph is built with (default: the CPU's). */
  lowering?: GraphLowering;
}

const cases: Case[] = [
  { name: 'Add (broadcast)', shapes: [[2, 3], [3]], f: op.add },
  { name: 'Add (bias over 2×40 rows: ones-row Gemm reduction)', shapes: [[2, 40, 3], [3]], f: op.add },
  {
    name: 'Sub (broadcast)',
    shapes: [
      [2, 1, 3],
      [4, 1],
    ],
    f: op.sub,
  },
  { name: 'Sum (variadic, broadcast)', shapes: [[2, 3], [3], [2, 1]], f: (a, b, c) => op.sum(a, b, c, 0.5) },
  { name: 'Sum (WebGPU: Add chain)', shapes: [[2, 3], [3], [2, 1]], f: (a, b, c) => op.sum(a, b, c, 0.5), lowering: webgpuLowering },
  {
    name: 'Mul (broadcast)',
    shapes: [
      [2, 3],
      [2, 1],
    ],
    f: op.mul,
  },
  { name: 'Div (broadcast)', shapes: [[2, 3], [3]], f: op.div, range: [0.5, 2] },
  { name: 'Max', shapes: [[2, 3], [3]], f: op.maximum },
  {
    name: 'Min',
    shapes: [
      [2, 3],
      [2, 3],
    ],
    f: op.minimum,
  },
  { name: 'Neg', shapes: [[2, 3]], f: op.neg },
  { name: 'Exp', shapes: [[2, 3]], f: op.exp },
  { name: 'Log', shapes: [[2, 3]], f: op.log, range: [0.3, 3] },
  { name: 'Sqrt', shapes: [[2, 3]], f: op.sqrt, range: [0.3, 3] },
  { name: 'Pow (const 1.7)', shapes: [[2, 3]], f: (x) => op.pow(x, 1.7), range: [0.3, 3] },
  { name: 'Pow (const 3)', shapes: [[2, 3]], f: (x) => op.pow(x, 3) },
  { name: 'Reciprocal', shapes: [[2, 3]], f: op.reciprocal, range: [0.5, 2] },
  { name: 'Abs', shapes: [[2, 3]], f: op.abs },
  { name: 'Tanh', shapes: [[2, 3]], f: op.tanh },
  { name: 'Sigmoid', shapes: [[2, 3]], f: op.sigmoid },
  { name: 'SiLU', shapes: [[2, 3]], f: op.silu },
  { name: 'ReLU', shapes: [[2, 3]], f: op.relu },
  { name: 'Clip', shapes: [[2, 3]], f: (x) => op.clip(x, -0.5, 0.7) },
  { name: 'Erf (float64 series)', shapes: [[2, 3]], f: op.erf, range: [-3, 3] },
  { name: 'GELU exact', shapes: [[2, 3]], f: (x) => op.gelu(x) },
  { name: 'GELU tanh', shapes: [[2, 3]], f: (x) => op.gelu(x, 'tanh') },
  {
    name: 'MatMul (batched, broadcast)',
    shapes: [
      [2, 3, 4],
      [4, 2],
    ],
    f: op.matmul,
  },
  {
    name: 'MatMul (batch broadcast b)',
    shapes: [
      [3, 4],
      [2, 4, 2],
    ],
    f: op.matmul,
  },
  {
    name: 'MatMul (same batch, k ≤ n: copy(aᵀ) @ g)',
    shapes: [
      [2, 3, 4],
      [2, 4, 5],
    ],
    f: op.matmul,
  },
  {
    name: 'MatMul (same batch, k > n: (copy(gᵀ) @ a)ᵀ)',
    shapes: [
      [2, 3, 5],
      [2, 5, 2],
    ],
    f: op.matmul,
  },
  {
    name: 'MatMul (shared weight, k ≤ n)',
    shapes: [
      [2, 3, 2],
      [2, 4],
    ],
    f: op.matmul,
  },
  {
    name: 'MatMul on an expanded weight (one 2-D dW)',
    shapes: [
      [2, 3, 4],
      [4, 5],
    ],
    f: (a, w) => op.matmul(a, op.expand(w, [2, 4, 5])),
  },
  {
    name: 'MatMul on an expanded weight, k > n',
    shapes: [
      [3, 2, 5],
      [5, 2],
    ],
    f: (a, w) => op.matmul(a, op.expand(w, [3, 5, 2])),
  },
  { name: 'Gemm (k ≤ n)', shapes: [[3, 2], [2, 4], [4]], f: (a, b, c) => op.gemm(a, b, c) },
  { name: 'Gemm', shapes: [[3, 4], [4, 2], [2]], f: (a, b, c) => op.gemm(a, b, c, { alpha: 0.7, beta: 1.3 }) },
  {
    name: 'Gemm transA transB',
    shapes: [
      [4, 3],
      [2, 4],
      [3, 2],
    ],
    f: (a, b, c) => op.gemm(a, b, c, { transA: true, transB: true }),
  },
  {
    name: 'Gemm transB',
    shapes: [
      [3, 4],
      [2, 4],
      [1, 2],
    ],
    f: (a, b, c) => op.gemm(a, b, c, { transB: true, alpha: 2 }),
  },
  { name: 'Softmax', shapes: [[2, 4]], f: (x) => op.softmax(x, -1) },
  { name: 'Softmax axis 0', shapes: [[3, 2]], f: (x) => op.softmax(x, 0) },
  { name: 'LogSoftmax', shapes: [[2, 4]], f: (x) => op.logSoftmax(x) },
  { name: 'LogSoftmax (WebGPU: primitives)', shapes: [[3, 4]], f: (x) => op.logSoftmax(x), lowering: webgpuLowering },
  { name: 'LogSoftmax axis 0 (WebGPU: primitives)', shapes: [[3, 2]], f: (x) => op.logSoftmax(x, 0), lowering: webgpuLowering },
  { name: 'ReduceSum', shapes: [[2, 3, 2]], f: (x) => op.reduceSum(x, [1]) },
  { name: 'ReduceMean keepdims', shapes: [[2, 3, 2]], f: (x) => op.reduceMean(x, [0, 2], true) },
  { name: 'ReduceMax', shapes: [[2, 3]], f: (x) => op.reduceMax(x, [1]) },
  { name: 'ReduceMin', shapes: [[2, 3]], f: (x) => op.reduceMin(x, [0]) },
  { name: 'Transpose', shapes: [[2, 3, 4]], f: (x) => op.transpose(x, [2, 0, 1]) },
  { name: 'Reshape', shapes: [[2, 6]], f: (x) => op.reshape(x, [3, -1]) },
  {
    name: 'Concat',
    shapes: [
      [2, 3],
      [2, 1],
    ],
    f: (a, b) => op.concat([a, b], 1),
  },
  {
    name: 'Split',
    shapes: [[2, 5]],
    f: (x) => {
      const [a, b] = op.split(x, [2, 3], 1);
      return op.add(op.reduceSum(a, [1]), op.reduceMax(b, [1]));
    },
  },
  { name: 'Slice', shapes: [[4, 5]], f: (x) => op.slice(x, [0, 1], [1, -4], [3, 5]) },
  { name: 'Slice step 2', shapes: [[7, 3]], f: (x) => op.slice(x, [0], [1], [6], [2]) },
  {
    name: 'Gather axis 0 (repeats)',
    shapes: [[4, 3]],
    f: (x) => op.gather(x, x.graph instanceof Graph ? x.graph.constant(hostTensor('int64', [2, 2], [1, 3, 1, 0])) : x),
  },
  {
    name: 'Gather axis 0 (WebGPU: float index column)',
    shapes: [[4, 3]],
    f: (x) => op.gather(x, (x.graph as Graph).constant(hostTensor('int64', [2, 2], [1, 3, 1, 0]))),
    lowering: webgpuLowering,
  },
  {
    name: 'Gather axis 1 (WebGPU: float index column)',
    shapes: [[2, 4, 3]],
    f: (x) => op.gather(x, (x.graph as Graph).constant(hostTensor('int64', [3], [2, 2, 0])), 1),
    lowering: webgpuLowering,
  },
  {
    name: 'Gather axis 1',
    shapes: [[2, 4, 3]],
    f: (x) => op.gather(x, (x.graph as Graph).constant(hostTensor('int64', [3], [2, 2, 0])), 1),
  },
  {
    name: 'Where',
    shapes: [[2, 3], [3]],
    f: (a, b) => op.where((a.graph as Graph).constant(hostTensor('bool', [2, 3], [1, 0, 1, 1, 0, 0])), a, b),
  },
  { name: 'Expand', shapes: [[3, 1]], f: (x) => op.expand(x, [2, 3, 4]) },
  { name: 'Pad', shapes: [[2, 3]], f: (x) => op.pad(x, [1, 0, 0, 2], 0.5) },
  {
    name: 'Cast f64→f32→f64',
    shapes: [[2, 3]],
    f: (x) => op.cast(op.mul(op.cast(x, 'float32'), op.cast(x, 'float32')), 'float64'),
    tol: 1e-4,
    h: 1e-2,
  },
  { name: 'LayerNorm (float64, 70 rows)', shapes: [[70, 4], [4], [4]], f: (x, gm, b) => op.layerNorm(x, gm, b, 1e-5) },
  { name: 'LayerNorm (float64 primitives)', shapes: [[2, 3, 5], [5], [5]], f: (x, gm, b) => op.layerNorm(x, gm, b, 1e-5) },
  { name: 'L2 normalise', shapes: [[3, 4]], f: (x) => op.l2Normalize(x, -1) },
  {
    name: 'attention',
    shapes: [
      [2, 3, 4],
      [2, 5, 4],
      [2, 5, 2],
    ],
    f: (q, k, v) => op.attention(q, k, v),
  },
  { name: 'patchEmbed', shapes: [[1, 2, 4, 4], [8, 3], [3]], f: (x, w, b) => op.patchEmbed(x, w, b, 2) },
];

function randomHost(shape: Shape, r: () => number, [lo, hi]: [number, number]): HostTensor<'float64'> {
  return hostTensor(
    'float64',
    shape,
    Float64Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * r()),
  );
}

async function check(c: Case, seed: number): Promise<number> {
  const r = rng(seed);
  const g = new Graph('gradcheck', c.lowering);
  const xs = c.shapes.map((s, i) => g.input(`x${i}`, s, 'float64'));
  const y = c.f(...xs);
  // A random linear functional of the output, so every output element's gradient matters.
  const w = g.constant(randomHost(y.shape, r, [-1, 1]), 'w');
  const loss = op.reduceSum(op.mul(y, w));
  g.output(loss, 'loss');
  const grads = grad(loss, xs);
  grads.forEach((d, i) => g.output(d, `d${i}`));
  const s = await Session.create(serialize(g));
  const feeds: Record<string, HostTensor> = {};
  c.shapes.forEach((sh, i) => (feeds[`x${i}`] = randomHost(sh, r, c.range ?? [-2, 2])));
  const res = await s.run(feeds);
  let worst = 0;
  const h = c.h ?? 1e-6;
  for (let i = 0; i < c.shapes.length; i++) {
    const x = feeds[`x${i}`].data as Float64Array;
    const analytic = res[`d${i}`].data as Float64Array;
    for (let k = 0; k < x.length; k++) {
      const x0 = x[k];
      x[k] = x0 + h;
      const lp = ((await s.run(feeds, ['loss'])).loss.data as Float64Array)[0];
      x[k] = x0 - h;
      const lm = ((await s.run(feeds, ['loss'])).loss.data as Float64Array)[0];
      x[k] = x0;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(fd - analytic[k]) / Math.max(1, Math.abs(fd));
      worst = Math.max(worst, err);
    }
  }
  await s.release();
  return worst;
}

describe('gradient check (float64, central differences through onnxruntime)', () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const err = await check(c, 1234 + i);
    expect(err).toBeLessThan(c.tol ?? 1e-6);
  });
});

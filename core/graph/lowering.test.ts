// GraphLowering (the op forms for WebGPU) computes what the plain forms compute, on the CPU:
// sumAsAdds: the GELU and LayerNorm backward rules (the n-ary sums of a training step) emit chains of Add
// instead of ONNX Sum; logSoftmaxPrimitives: LogSoftmax as max-shifted primitives; indicesViaFloat: the
// Gather gradient's index column without an int64 Reshape. Where the nodes run is placement.test.ts's.
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { Graph, type GraphLowering, webgpuLowering } from './graph.js';
import * as op from './ops/index.js';
import { serialize } from './onnx.js';
import { mulberry32 } from '../common/random.js';
import { Session } from './runtime.js';
import { hostTensor } from './tensor.js';

const [N, D] = [16, 24];

/** d/dx, d/dgamma of Σ LayerNorm(GELU(x))·w: returns the graph's op types and the gradients on the CPU. */
async function gradients(lowering: GraphLowering): Promise<{ ops: string[]; dx: Float32Array; dgamma: Float32Array }> {
  const g = new Graph('ln_gelu', lowering);
  const x = g.input('x', [N, D]);
  const w = g.input('w', [N, D]);
  const gamma = g.param('gamma', [D]);
  const beta = g.param('beta', [D]);
  const y = op.layerNorm(op.gelu(x), gamma, beta, 1e-6); // (N, D)
  const loss = op.reduceSum(op.mul(y, w));
  const [dx, dgamma] = grad(loss, [x, gamma]);
  g.output(dx, 'dx');
  g.output(dgamma, 'dgamma');
  const r = mulberry32(5);
  const rand = (n: number, s: number, o = 0): Float32Array => Float32Array.from({ length: n }, () => o + s * (2 * r() - 1));
  const s = await Session.create(serialize(g), { intraOpThreads: 1 });
  const out = await s.run({
    x: hostTensor('float32', [N, D], rand(N * D, 2)),
    w: hostTensor('float32', [N, D], rand(N * D, 1)),
    gamma: hostTensor('float32', [D], rand(D, 0.5, 1)),
    beta: hostTensor('float32', [D], rand(D, 0.1)),
  });
  await s.release();
  return { ops: g.nodes.map((n) => n.op), dx: out.dx.data as Float32Array, dgamma: out.dgamma.data as Float32Array };
}

describe('GraphLowering', () => {
  it('sumAsAdds: no Sum node in a GELU + LayerNorm backward, and the same gradients as with Sum (1e-6)', async () => {
    const fused = await gradients({});
    const adds = await gradients({ sumAsAdds: true });
    expect(fused.ops.filter((o) => o === 'Sum').length).toBe(2); // GELU's and LayerNorm's backward
    expect(adds.ops).not.toContain('Sum');
    for (const k of ['dx', 'dgamma'] as const) {
      let worst = 0;
      for (let i = 0; i < fused[k].length; i++)
        worst = Math.max(worst, Math.abs(adds[k][i] - fused[k][i]) / Math.max(1, Math.abs(fused[k][i])));
      expect(worst).toBeLessThan(1e-6);
    }
  });
});

/** Loss Σ w·logSoftmax(gather(x, idx)) and its gradient d/dx on the CPU, built with `lowering`. */
async function lossAndGrad(lowering: GraphLowering): Promise<{ g: Graph; loss: number; dx: Float32Array }> {
  const [V, U, K] = [12, 9, 7];
  const g = new Graph('gather_logsoftmax', lowering);
  const x = g.input('x', [V, K]);
  const idx = g.input('idx', [U], 'int64');
  const w = g.input('w', [U, K]);
  const loss = op.reduceSum(op.mul(op.logSoftmax(op.mul(op.gather(x, idx, 0), 10)), w));
  const [dx] = grad(loss, [x]);
  g.output(loss, 'loss');
  g.output(dx, 'dx');
  const r = mulberry32(11);
  const rand = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => s * (2 * r() - 1));
  const s = await Session.create(serialize(g), { intraOpThreads: 1 });
  const idxData = BigInt64Array.from([3, 0, 11, 3, 5, 7, 7, 1, 10], (v) => BigInt(v)); // repeats: the scatter adds
  const out = await s.run({
    x: hostTensor('float32', [V, K], rand(V * K, 2)),
    idx: hostTensor('int64', [U], idxData),
    w: hostTensor('float32', [U, K], rand(U * K, 1)),
  });
  await s.release();
  return { g, loss: (out.loss.data as Float32Array)[0], dx: out.dx.data as Float32Array };
}

describe('GraphLowering for WebGPU', () => {
  it('logSoftmaxPrimitives and indicesViaFloat: no LogSoftmax, no int64 Reshape; the same loss and gradient as the plain forms (1e-6)', async () => {
    const plain = await lossAndGrad({});
    const lowered = await lossAndGrad(webgpuLowering);
    const int64Reshapes = (g: Graph): number => g.nodes.filter((n) => n.op === 'Reshape' && n.inputs[0]?.dtype === 'int64').length;
    expect(plain.g.nodes.map((n) => n.op)).toContain('LogSoftmax');
    expect(int64Reshapes(plain.g)).toBe(1); // the Gather gradient's ScatterND index column
    expect(lowered.g.nodes.map((n) => n.op)).not.toContain('LogSoftmax');
    expect(int64Reshapes(lowered.g)).toBe(0);
    expect(Math.abs(lowered.loss - plain.loss) / Math.abs(plain.loss)).toBeLessThan(1e-6);
    let worst = 0;
    for (let i = 0; i < plain.dx.length; i++)
      worst = Math.max(worst, Math.abs(lowered.dx[i] - plain.dx[i]) / Math.max(1, Math.abs(plain.dx[i])));
    expect(worst).toBeLessThan(1e-6);
    expect(Math.max(...plain.dx.map(Math.abs))).toBeGreaterThan(0.1); // the gradient is not trivially zero
  });

  it('indicesViaFloat refuses an axis longer than 2^24 (float32 would round the indices)', () => {
    const g = new Graph('big', webgpuLowering);
    const idx = g.input('idx', [3], 'int64');
    expect(() => op.indexColumn(idx, 2 ** 24 + 1)).toThrow(/2\^24/);
  });
});

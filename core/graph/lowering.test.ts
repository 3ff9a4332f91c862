// GraphLowering.sumAsAdds: the GELU and LayerNorm backward rules (the n-ary sums of a training step) emit
// chains of Add instead of ONNX Sum, for providers without a Sum kernel (WebGPU), and compute the same
// gradients as the one-pass Sum on the CPU.
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { Graph, type GraphLowering } from './graph.js';
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
  const out = await s.run({ x: hostTensor('float32', [N, D], rand(N * D, 2)), w: hostTensor('float32', [N, D], rand(N * D, 1)), gamma: hostTensor('float32', [D], rand(D, 0.5, 1)), beta: hostTensor('float32', [D], rand(D, 0.1)) });
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
      for (let i = 0; i < fused[k].length; i++) worst = Math.max(worst, Math.abs(adds[k][i] - fused[k][i]) / Math.max(1, Math.abs(fused[k][i])));
      expect(worst).toBeLessThan(1e-6);
    }
  });
});

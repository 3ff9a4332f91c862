// linear(): the row-chunked batched form (fed weights, many rows) against the plain Reshape → Gemm form
// in float64 at the ViT block's real row count (the expanded weight rematerialised for the backward), a
// finite-difference check of the chunked form, and the choice of chunks.
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { flatLayout, flatViews } from './flat.js';
import { Graph } from './graph.js';
import { gemm, linear, linearChunks, reduceSum, mul, reshape } from './ops/index.js';
import { serialize } from './onnx.js';
import { mulberry32 } from '../common/random.js';
import { Session } from './runtime.js';
import { type HostTensor, type Shape, hostTensor, sizeOf } from './tensor.js';

function random(shape: Shape, r: () => number): HostTensor<'float64'> {
  return hostTensor(
    'float64',
    shape,
    Float64Array.from({ length: sizeOf(shape) }, () => 2 * r() - 1),
  );
}

/** loss = Σ linear(x, w, b)·R, and its gradients; `plain` builds the Gemm form by hand. */
async function run(
  xs: Shape,
  K: number,
  N: number,
  plain: boolean,
  feeds: Record<string, HostTensor>,
): Promise<{ ops: string[]; recomputed: string[]; out: Record<string, HostTensor>; s: Session }> {
  const g = new Graph();
  const x = g.input('x', xs, 'float64');
  const w = g.param('w', [K, N], 'float64');
  const b = g.param('b', [N], 'float64');
  const r = g.input('r', [...xs.slice(0, -1), N], 'float64');
  const y = plain ? reshape(gemm(reshape(x, [-1, K]), w, b), r.shape) : linear(x, w, b); // (…, N)
  const loss = reduceSum(mul(y, r));
  const [dx, dw, db] = grad(loss, [x, w, b]);
  g.output(loss, 'loss');
  g.output(y, 'y');
  g.output(dx, 'dx');
  g.output(dw, 'dw');
  g.output(db, 'db');
  const s = await Session.create(serialize(g));
  return { ops: g.nodes.map((n) => n.op), recomputed: g.nodes.filter((n) => n.recompute).map((n) => n.op), out: await s.run(feeds), s };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('linear', () => {
  it('chunks many rows near 512 per chunk, and leaves few or prime row counts alone', () => {
    expect(linearChunks(32 * 261)).toBe(16); // 522 rows each
    expect(linearChunks(2048)).toBe(4);
    expect(linearChunks(1000)).toBe(1);
    expect(linearChunks(1031)).toBe(1); // prime
  });

  it('chunked form equals the Gemm form in float64 at the ViT block size (M = 8352, 384 → 96)', async () => {
    const [B, T, K, N] = [32, 261, 384, 96];
    const r = mulberry32(7);
    const feeds = { x: random([B, T, K], r), w: random([K, N], r), b: random([N], r), r: random([B, T, N], r) };
    const chunked = await run([B, T, K], K, N, false, feeds);
    const plain = await run([B, T, K], K, N, true, feeds);
    expect(chunked.ops).toContain('Expand');
    expect(chunked.ops.slice(0, 4)).not.toContain('Gemm');
    expect(chunked.recomputed).toEqual(['Expand']); // the expanded weight is re-expanded for dX, not kept
    expect(plain.ops).toContain('Gemm');
    for (const k of ['y', 'dx', 'dw', 'db'])
      expect(relErr(chunked.out[k].data as Float64Array, plain.out[k].data as Float64Array), k).toBeLessThan(1e-12);
    await chunked.s.release();
    await plain.s.release();
  });

  it('chunked form passes a central-difference check on w, b and sampled x (M = 1040)', async () => {
    const [B, T, K, N] = [2, 520, 3, 2];
    const r = mulberry32(11);
    const feeds = { x: random([B, T, K], r), w: random([K, N], r), b: random([N], r), r: random([B, T, N], r) };
    const { ops, out, s } = await run([B, T, K], K, N, false, feeds);
    expect(ops).toContain('Expand');
    const h = 1e-6;
    const loss = async (): Promise<number> => ((await s.run(feeds, ['loss'])).loss.data as Float64Array)[0];
    let worst = 0;
    const probe = async (name: 'x' | 'w' | 'b', grad: Float64Array, idx: number[]): Promise<void> => {
      const v = feeds[name].data;
      for (const k of idx) {
        const v0 = v[k];
        v[k] = v0 + h;
        const lp = await loss();
        v[k] = v0 - h;
        const lm = await loss();
        v[k] = v0;
        const fd = (lp - lm) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - grad[k]) / Math.max(1, Math.abs(fd)));
      }
    };
    await probe('w', out.dw.data as Float64Array, [...Array(K * N).keys()]);
    await probe('b', out.db.data as Float64Array, [...Array(N).keys()]);
    await probe(
      'x',
      out.dx.data as Float64Array,
      Array.from({ length: 12 }, () => Math.floor(r() * B * T * K)),
    );
    await s.release();
    expect(worst).toBeLessThan(1e-6);
  });

  it('keeps the Gemm form for constant weights (no c-times initializer) and few rows', () => {
    const g = new Graph();
    const x = g.input('x', [4, 300, 8]);
    const wc = g.constant(hostTensor('float32', [8, 4], new Float32Array(32)));
    linear(x, wc, null);
    linear(g.input('x2', [2, 5, 8]), g.param('w', [8, 4]), null);
    expect(g.nodes.map((n) => n.op)).not.toContain('Expand');
    expect(g.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(2);
  });

  it("chunks rows against a weight that is a view of a flat parameter buffer (the trainer's layout), not against a computed one", () => {
    const g = new Graph();
    const x = g.input('x', [4, 300, 8]); // 1200 rows: 2 chunks
    const flat = g.param('flat', [40]);
    const [w] = flatViews(
      flat,
      flatLayout([
        { name: 'w', shape: [8, 4] },
        { name: 'b', shape: [8] },
      ]),
    );
    linear(x, w, null);
    expect(g.nodes.filter((n) => n.op === 'Expand')).toHaveLength(1);
    expect(g.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(0);
    linear(x, mul(w, 2), null); // computed from the buffer: the plain form
    expect(g.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(1);
  });
});

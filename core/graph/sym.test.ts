// Symbolic dims: the algebra, and one small graph built once with symbolic batch/height/width that runs in
// onnxruntime at several sizes and matches the static graph built for each size.
import { afterAll, describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { Graph } from './graph.js';
import { serialize } from './onnx.js';
import { add, cast, mul } from './ops/elementwise.js';
import { matmul } from './ops/linalg.js';
import { softmax } from './ops/nn.js';
import { reduceMean, reduceSum } from './ops/reduce.js';
import { range } from './ops/resize.js';
import { concat, expand, reshape, slice, transpose, transposeLast2 } from './ops/shape.js';
import { mulberry32 } from '../common/random.js';
import { Session } from './runtime.js';
import { Sym, dimAdd, dimEq, dimExactDiv, dimFloorDiv, dimMul, dimSub, probeOf } from './sym.js';
import { type Tensor, hostTensor } from './tensor.js';

describe('Dim algebra', () => {
  const H = Sym.symbol('height', 70);
  const W = Sym.symbol('width', 42);
  const B = Sym.symbol('batch', 3);
  it('normalises polynomials and keeps probes', () => {
    const h = dimFloorDiv(H, 14);
    const w = dimFloorDiv(W, 14);
    const T = dimAdd(5, dimMul(h, w));
    expect(String(T)).toBe('5+(height/14)*(width/14)');
    expect(probeOf(T)).toBe(5 + 5 * 3);
    expect(dimEq(dimMul(w, h), dimMul(h, w))).toBe(true);
    expect(dimSub(T, 5)).toEqual(dimMul(h, w));
    expect(dimSub(T, T)).toBe(0);
    expect(dimFloorDiv(dimMul(H, 4), 2)).toEqual(dimMul(H, 2)); // exact division stays a polynomial
    expect(String(dimFloorDiv(dimAdd(H, 1), 2))).toBe('((1+height)/2)');
  });
  it('divides by monomials exactly or not at all', () => {
    const BT = dimMul(B, dimAdd(1, H));
    expect(dimEq(dimExactDiv(BT, B) ?? 0, dimAdd(1, H))).toBe(true);
    expect(dimExactDiv(BT, W)).toBeNull();
    expect(dimExactDiv(dimMul(B, 6), 4)).toBeNull();
    expect(dimExactDiv(dimMul(B, 6), 3)).toEqual(dimMul(B, 2));
  });
});

/** A small model written once over Dims: patchify, a batch-expanded token, attention, slices, Range. */
function model(g: Graph, x: Tensor): Tensor[] {
  const [B, C, H, W] = x.dims;
  const h = dimFloorDiv(H, 2);
  const w = dimFloorDiv(W, 2);
  const N = dimMul(h, w);
  const K = (C as number) * 4;
  const r = mulberry32(7);
  const tok = g.constant(
    hostTensor(
      'float32',
      [1, 1, K],
      Float32Array.from({ length: K }, () => r() - 0.5),
    ),
    'token',
  );
  const wq = g.constant(
    hostTensor(
      'float32',
      [K, K],
      Float32Array.from({ length: K * K }, () => (r() - 0.5) / 4),
    ),
    'wq',
  );
  const p = reshape(x, [B, C, h, 2, w, 2]); // (B, C, h, 2, w, 2): a target computed in the graph
  const t = reshape(transpose(p, [0, 2, 4, 1, 3, 5]), [B, N, K]); // (B, h, w, C, 2, 2) → (B, N, K)
  const seq = concat([expand(tok, [B, 1, K]), t], 1); // (B, 1 + N, K)
  const a = softmax(matmul(seq, transposeLast2(seq)), -1); // (B, T, T)
  const y = matmul(a, matmul(seq, wq)); // (B, T, K)
  const patches = slice(y, [1], [1], [dimAdd(1, N)]); // (B, N, K)
  const rows = cast(range(x, h), 'float32'); // (h)
  const grid = add(reshape(patches, [B, h, w, K]), reshape(rows, [1, h, 1, 1])); // (B, h, w, K)
  const cls = reshape(slice(y, [1], [0], [1]), [B, K]); // (B, 1, K) → (B, K)
  return [cls, grid, reduceMean(mul(patches, patches), [1, 2])]; // (B, K), (B, h, w, K), (B)
}

function graphFor(shape: readonly (number | string)[]): Graph {
  const g = new Graph('sym_test');
  const x = g.input('x', shape, 'float32', '', { batch: 5, height: 22, width: 26 });
  model(g, x).forEach((t, i) => g.output(t, `y${i}`));
  return g;
}

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

describe('a graph with symbolic batch, height and width', () => {
  it('runs at several sizes and matches the static graph of each size', async () => {
    const g = graphFor(['batch', 3, 'height', 'width']);
    expect(g.outputs.map(String)).toEqual(['y0:float32[batch,12]', 'y1:float32[batch,(height/2),(width/2),12]', 'y2:float32[batch]']);
    const bytes = serialize(g);
    const text = Buffer.from(bytes).toString('latin1');
    for (const p of ['batch', 'height', 'width', '(height/2)']) expect(text).toContain(p); // dim_param
    const dyn = await Session.create(bytes, { intraOpThreads: 1 });
    sessions.push(dyn);
    for (const [B, H, W] of [
      [1, 6, 10],
      [2, 12, 4],
      [4, 8, 8],
    ]) {
      const st = graphFor([B, 3, H, W]);
      expect(st.inputs[0].symbolic).toBe(false);
      const s = await Session.create(serialize(st), { intraOpThreads: 1 });
      sessions.push(s);
      const r = mulberry32(B * 100 + H);
      const x = hostTensor(
        'float32',
        [B, 3, H, W],
        Float32Array.from({ length: B * 3 * H * W }, () => r() * 2 - 1),
      );
      const a = await dyn.run({ x });
      const b = await s.run({ x });
      for (const k of ['y0', 'y1', 'y2']) {
        expect(a[k].dims, `${k} at ${B}×${H}×${W}`).toEqual(b[k].dims);
        expect(Array.from(a[k].data as Float32Array)).toEqual(Array.from(b[k].data as Float32Array));
      }
      expect(a.y1.dims).toEqual([B, H / 2, W / 2, 12]);
    }
  });

  it('writes static reshapes as constants (0 = copy, −1 = infer) where it can', () => {
    const g = new Graph('r');
    const x = g.input('x', ['batch', 'tokens', 12]);
    const y = reshape(x, [x.dims[0], x.dims[1], 3, 4]); // (batch, tokens, 3, 4)
    const z = reshape(y, [x.dims[0], -1]); // (batch, tokens·12)
    g.output(z, 'z');
    const shapes = g.nodes
      .filter((n) => n.op === 'Reshape')
      .map((n) => Array.from(g.info(n.inputs[1]!).data?.data as BigInt64Array, Number));
    expect(shapes).toEqual([
      [0, 0, 3, 4],
      [0, -1],
    ]);
    expect(String(z)).toBe('z:float32[batch,12*tokens]');
  });

  it('refuses what cannot hold at every size', () => {
    const g = new Graph('bad');
    const x = g.input('x', ['batch', 4], 'float32', '', { batch: 6 });
    expect(() => reshape(x, [6, 4])).toThrow(/Reshape: cannot reshape/); // the probe is not the batch
    expect(() => add(x, g.constant(hostTensor('float32', [6, 4]), 'c'))).toThrow(/do not broadcast/);
    const loss = reduceSum(mul(x, x));
    expect(() => grad(loss, [x])).toThrow(/symbolic dims/);
  });
});

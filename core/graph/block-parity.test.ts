// The ViT-S block (examples/block.ts) against PyTorch's float64 autograd (fixtures/block.json, written by
// scripts/fixtures/block_fixture.py from bench/python/block_ref.py): forward and every gradient, in float64
// (tight) and float32 (float32 rounding), plus rematerialisation giving identical gradients.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { blockGraph } from './examples/block.js';
import { serialize } from './onnx.js';
import { optimize } from './optimize.js';
import { Session } from './runtime.js';
import { type HostTensor, hostTensor } from './tensor.js';

interface Entry {
  shape: number[];
  f64: string;
}
interface Fixture {
  config: { batch: number; tokens: number; dim: number; heads: number; mlp: number };
  eps: number;
  inputs: { x: Entry; dy: Entry };
  params: Record<string, Entry>;
  y: Entry;
  grads: Record<string, Entry>;
}

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/block.json', import.meta.url)), 'utf8')) as Fixture;
const decode = (e: Entry): Float64Array => {
  const b = Buffer.from(e.f64, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
/** PyTorch Linear weights are (out, in); ours are (in, out). */
const isLinear = (name: string): boolean => name.endsWith('.weight') && !name.startsWith('norm');
function transpose2(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}
function ours(name: string, e: Entry): { dims: number[]; data: Float64Array } {
  const d = decode(e);
  if (!isLinear(name)) return { dims: e.shape, data: d };
  const [o, i] = e.shape;
  return { dims: [i, o], data: transpose2(d, o, i) };
}

async function runBlock(dtype: 'float32' | 'float64', remat = false): Promise<Record<string, HostTensor>> {
  const c = fx.config;
  const b = blockGraph({ dim: c.dim, heads: c.heads, mlp: c.mlp, eps: fx.eps, batch: c.batch, tokens: c.tokens, dtype, remat });
  optimize(b.graph);
  const s = await Session.create(serialize(b.graph));
  const conv = (v: { dims: number[]; data: Float64Array }): HostTensor =>
    dtype === 'float64' ? hostTensor('float64', v.dims, v.data) : hostTensor('float32', v.dims, Float32Array.from(v.data));
  const feeds: Record<string, HostTensor> = { x: conv(ours('x', fx.inputs.x)), dy: conv(ours('dy', fx.inputs.dy)) };
  for (const [name, t] of Object.entries(b.params)) feeds[t.name] = conv(ours(name, fx.params[name]));
  const out = await s.run(feeds);
  await s.release();
  return out;
}

/** max |a − b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

function compare(out: Record<string, HostTensor>, tol: number): void {
  expect(relErr(out.y.data as Float64Array, decode(fx.y))).toBeLessThan(tol);
  for (const name of Object.keys(fx.grads)) {
    const ref = ours(name, fx.grads[name]).data;
    const got = out[`grad/${name}`];
    expect(got, name).toBeDefined();
    expect(relErr(got.data as Float64Array, ref), name).toBeLessThan(tol);
  }
}

describe('ViT block parity with PyTorch float64 autograd', () => {
  it('float64: forward and all gradients to 1e-10', async () => {
    compare(await runBlock('float64'), 1e-10);
  });
  it('float32: forward and all gradients to 1e-5', async () => {
    compare(await runBlock('float32'), 1e-5);
  });
  it('rematerialised attention gives identical gradients', async () => {
    const [a, b] = [await runBlock('float32'), await runBlock('float32', true)];
    for (const k of Object.keys(a)) expect(Array.from(b[k].data as Float32Array), k).toEqual(Array.from(a[k].data as Float32Array));
  });
});

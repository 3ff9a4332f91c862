// The backbone is differentiable end to end (for training): float64 gradients of a scalar loss with respect
// to every parameter agree with a central finite difference along a random direction, for DINOv2 (masks,
// resized pos-embed, SwiGLU) and DINOv3 (RoPE with augmentation draws, mask_k_bias), with rematerialisation.
import { describe, expect, it } from 'vitest';
import { grad } from '../graph/autodiff.js';
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { mul } from '../graph/ops/elementwise.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { Session } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, vitConfig } from './config.js';
import { Rng, initParams, toGraphLayout } from './params.js';
import { buildViT } from './vit.js';

async function check(c: ViTConfig, H: number, W: number, opts: { masks: boolean; ropeAug: boolean }): Promise<void> {
  const B = 2;
  const N = (H / c.patchSize) * (W / c.patchSize);
  const g = new Graph('vit_grad');
  const images = g.input('images', [B, 3, H, W], 'float64');
  const masks = opts.masks ? g.input('masks', [B, N], 'bool') : undefined;
  const ropeAug = opts.ropeAug ? g.input('rope_aug', [c.depth, 5], 'float64') : undefined;
  const r = buildViT(g, images, c, { masks, training: ropeAug ? { ropeAug } : undefined, remat: true });
  const w1 = g.input('w_cls', [B, c.dim], 'float64');
  const w2 = g.input('w_patches', [B, N, c.dim], 'float64');
  const loss = reduceSum(mul(r.cls, w1), undefined, false);
  const loss2 = reduceSum(mul(r.patches, w2), undefined, false);
  const total = g.op('Add', [loss, loss2], {}, [], 'float64');
  const names = Object.keys(r.params);
  const grads = grad(
    total,
    names.map((n) => r.params[n]),
  );
  g.output(total, 'loss');
  grads.forEach((d, i) => g.output(d, `grad/${names[i]}`));
  const s = await Session.create(serialize(g), { intraOpThreads: 1 });
  const rng = new Rng(11);
  const rand = (dims: number[], scale = 1): HostTensor =>
    hostTensor(
      'float64',
      dims,
      Float64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()),
    );
  // Random weights far from the training init (LayerScale 1e-5 would hide the blocks).
  const base = initParams(c, 9, 'float64');
  for (const [n, t] of Object.entries(base)) {
    const d = t.data as Float64Array;
    for (let i = 0; i < d.length; i++)
      d[i] += (n.includes('norm') && n.endsWith('weight') ? 1 : 0) + 0.2 * rng.normal() * (n.endsWith('gamma') ? 2 : 1);
  }
  const feeds: Record<string, HostTensor> = { images: rand([B, 3, H, W]), w_cls: rand([B, c.dim]), w_patches: rand([B, N, c.dim]) };
  if (masks)
    feeds.masks = hostTensor(
      'bool',
      [B, N],
      Uint8Array.from({ length: B * N }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    );
  if (ropeAug) feeds.rope_aug = rand([c.depth, 5], 0.2);
  const graphParams = Object.fromEntries(names.map((n) => [n, toGraphLayout(n, base[n])]));
  const out = await s.run({ ...feeds, ...graphParams });
  // Directional derivative along u vs the analytic gradient's projection.
  const u = Object.fromEntries(names.map((n) => [n, rand(graphParams[n].dims)]));
  let analytic = 0;
  for (const n of names) {
    const gd = out[`grad/${n}`].data as Float64Array;
    const ud = u[n].data as Float64Array;
    for (let i = 0; i < gd.length; i++) analytic += gd[i] * ud[i];
  }
  const shifted = async (sign: number, eps: number): Promise<number> => {
    const p: Record<string, HostTensor> = {};
    for (const n of names) {
      const d = Float64Array.from(graphParams[n].data as Float64Array);
      const ud = u[n].data as Float64Array;
      for (let i = 0; i < d.length; i++) d[i] += sign * eps * ud[i];
      p[n] = hostTensor('float64', graphParams[n].dims, d);
    }
    return (await s.run({ ...feeds, ...p }, ['loss'])).loss.data[0] as number;
  };
  // Central differences at ε and ε/2, Richardson-extrapolated: the O(ε²) truncation term cancels (the random
  // weights make the loss strongly curved; plain central differences at 1e-5 are off by ~5e-5 relative).
  const central = async (eps: number): Promise<number> => ((await shifted(1, eps)) - (await shifted(-1, eps))) / (2 * eps);
  const numeric = (4 * (await central(5e-6)) - (await central(1e-5))) / 3;
  await s.release();
  expect(Math.abs(numeric - analytic) / Math.max(1, Math.abs(analytic))).toBeLessThan(1e-6);
  for (const n of names)
    expect(
      (out[`grad/${n}`].data as Float64Array).some((v) => v !== 0),
      n,
    ).toBe(true);
}

describe('ViT gradients (float64, directional finite difference)', () => {
  it('DINOv2: masks, registers, resized pos-embed, SwiGLU, remat', async () => {
    await check(vitConfig('tiny', { dim: 16, heads: 2, depth: 2, registers: 2, ffn: 'swiglu', posEmbed: { gridSize: 3 } }), 28, 42, {
      masks: true,
      ropeAug: false,
    });
  });
  it('DINOv3: RoPE with augmentation draws, mask_k_bias, remat', async () => {
    await check(vitConfig('tiny', { arch: 'dinov3', dim: 16, heads: 2, depth: 2, registers: 1 }), 32, 48, { masks: true, ropeAug: true });
  });
});

// C-channel models (multi-channel fluorescence): the patch embedding of C input channels is differentiable
// (float64 finite differences, element by element, as core/graph/gradcheck.test.ts does for every op), a
// whole C-channel backbone builds and runs, and inflating an RGB model to C channels keeps its output on a
// grey image (replicated to RGB for the RGB model, to C channels for the inflated one).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../common/random.js';
import { grad } from '../graph/autodiff.js';
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { mul } from '../graph/ops/elementwise.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { Session } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { vitConfig } from './config.js';
import { inferenceGraph } from './inference.js';
import { inflatePatchEmbed } from './inflate.js';
import { CHANNEL_MEAN, CHANNEL_STD, IMAGENET_MEAN, IMAGENET_STD } from './input-norm.js';
import { initParams, paramSpecs } from './params.js';
import { patchEmbed } from './patch-embed.js';
import { exportOnnx } from './weights/onnx-export.js';
import { exportWeights } from './weights/export.js';
import { loadWeights } from './weights/import.js';

function random(dims: readonly number[], r: () => number, scale = 1): HostTensor<'float64'> {
  const n = dims.reduce((a, b) => a * b, 1);
  return hostTensor(
    'float64',
    dims,
    Float64Array.from({ length: n }, () => scale * (2 * r() - 1)),
  );
}

describe('C-channel patch embedding', () => {
  it('float64 gradients of images, kernel and bias (5 channels) agree with central differences', async () => {
    const [Bn, C, H, Wd, p, D] = [2, 5, 4, 6, 2, 3];
    const g = new Graph('patch_embed_grad');
    const images = g.input('images', [Bn, C, H, Wd], 'float64');
    const weight = g.input('weight', [C * p * p, D], 'float64');
    const bias = g.input('bias', [D], 'float64');
    const y = patchEmbed(images, weight, bias, p); // (B, N, D)
    expect(y.shape).toEqual([Bn, (H / p) * (Wd / p), D]);
    const r = mulberry32(5);
    const w = g.constant(random(y.shape, r), 'w');
    const loss = reduceSum(mul(y, w));
    g.output(loss, 'loss');
    const grads = grad(loss, [images, weight, bias]);
    grads.forEach((d, i) => g.output(d, `d${i}`));
    const s = await Session.create(serialize(g), { intraOpThreads: 1 });
    const feeds: Record<string, HostTensor> = {
      images: random([Bn, C, H, Wd], r, 2),
      weight: random([C * p * p, D], r),
      bias: random([D], r),
    };
    const out = await s.run(feeds);
    const h = 1e-6;
    let worst = 0;
    let checked = 0;
    for (const [i, name] of ['images', 'weight', 'bias'].entries()) {
      const x = feeds[name].data as Float64Array;
      const analytic = out[`d${i}`].data as Float64Array;
      for (let k = 0; k < x.length; k++) {
        const x0 = x[k];
        x[k] = x0 + h;
        const lp = (await s.run(feeds, ['loss'])).loss.data[0] as number;
        x[k] = x0 - h;
        const lm = (await s.run(feeds, ['loss'])).loss.data[0] as number;
        x[k] = x0;
        const fd = (lp - lm) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - analytic[k]) / Math.max(1, Math.abs(fd)));
        checked++;
      }
    }
    await s.release();
    expect(checked).toBe(Bn * C * H * Wd + C * p * p * D + D);
    expect(worst).toBeLessThan(1e-7);
  });

  it('a 5-channel ViT has a (D, 5, p, p) kernel and runs on (B, 5, H, W) images', async () => {
    const cfg = vitConfig('tiny', { arch: 'dinov3', dim: 16, heads: 2, depth: 1, registers: 1, inChans: 5 });
    expect(paramSpecs(cfg).find((s) => s.name === 'patch_embed.proj.weight')!.shape).toEqual([16, 5, 16, 16]);
    const ig = inferenceGraph(cfg, { batch: 1, height: 32, width: 32, weights: 'initializers', values: initParams(cfg, 1) });
    const s = await Session.create(serialize(ig.graph), { intraOpThreads: 1 });
    const r = mulberry32(2);
    const out = await s.run({ images: hostTensor('float32', [1, 5, 32, 32], Float32Array.from({ length: 5 * 32 * 32 }, r)) });
    await s.release();
    expect(out.patches.dims).toEqual([1, 4, 16]);
    expect(Array.from(out.patches.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});

describe('patch-embedding inflation from RGB to C channels', () => {
  for (const arch of ['dinov2', 'dinov3'] as const) {
    it(`${arch}: the inflated 5-channel model's output on a grey image equals the RGB model's`, async () => {
      const rgbCfg = vitConfig('tiny', {
        arch,
        dim: 32,
        heads: 2,
        depth: 2,
        registers: 2,
        layerScale: { init: 1 },
        ...(arch === 'dinov2' ? { posEmbed: { gridSize: 4 } } : {}),
      });
      const rgbWeights = initParams(rgbCfg, 3);
      const C = 5;
      const { config, weights } = inflatePatchEmbed(rgbCfg, rgbWeights, C);
      expect(config.inChans).toBe(C);
      expect(weights['patch_embed.proj.weight'].dims).toEqual([32, C, rgbCfg.patchSize, rgbCfg.patchSize]);
      for (const n of Object.keys(rgbWeights)) if (!n.startsWith('patch_embed')) expect(weights[n]).toBe(rgbWeights[n]);
      const side = 4 * rgbCfg.patchSize;
      const plane = side * side;
      const r = mulberry32(8);
      const grey = Float32Array.from({ length: plane }, r); // [0, 1]
      const rgbInput = new Float32Array(3 * plane);
      for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) rgbInput[c * plane + i] = (grey[i] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      const chInput = new Float32Array(C * plane);
      for (let c = 0; c < C; c++) for (let i = 0; i < plane; i++) chInput[c * plane + i] = (grey[i] - CHANNEL_MEAN) / CHANNEL_STD;
      const run = async (cfg: typeof rgbCfg, values: Record<string, HostTensor>, input: Float32Array): Promise<Float32Array> => {
        const ig = inferenceGraph(cfg, { batch: 1, height: side, width: side, weights: 'initializers', values, dtype: 'float64' });
        const s = await Session.create(serialize(ig.graph), { intraOpThreads: 1 });
        const out = await s.run({ images: hostTensor('float64', [1, cfg.inChans, side, side], Float64Array.from(input)) });
        await s.release();
        return Float32Array.from(out.patches.data as Float64Array);
      };
      const a = await run(rgbCfg, rgbWeights, rgbInput);
      const b = await run(config, weights, chInput);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(a[i]));
      }
      expect(scale).toBeGreaterThan(0.1);
      console.log(`${arch} inflation: worst |Δ| / max |patch| = ${(worst / scale).toExponential(2)}`);
      expect(worst / scale).toBeLessThan(1e-5);
      // Only an RGB model inflates (a C-channel one already has its panel).
      expect(() => inflatePatchEmbed(config, weights, 4)).toThrow(/only an RGB model/);
    });
  }
});

describe('weight I/O and ONNX export of a 5-channel model', () => {
  it('exports to HF safetensors and back (inChans from the kernel), and to a dynamic ONNX file that runs on (1, 5, H, W)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-channels-io-'));
    try {
      const cfg = vitConfig('tiny', { arch: 'dinov3', dim: 16, heads: 2, depth: 1, registers: 1, inChans: 5 });
      const w = initParams(cfg, 4);
      const tensors = new Map(Object.entries(w).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));
      await exportWeights(join(dir, 'hf'), cfg, tensors, 'hf');
      const back = await loadWeights(join(dir, 'hf', 'model.safetensors'));
      expect(back.config.inChans).toBe(5);
      expect(Array.from(back.tensors.get('patch_embed.proj.weight')!.data)).toEqual(
        Array.from(w['patch_embed.proj.weight'].data as Float32Array),
      );
      const r = await exportOnnx(join(dir, 'm.onnx'), cfg, tensors);
      expect(r.inputs[0].shape).toEqual(['batch', 5, 'height', 'width']);
      const s = await Session.create(new Uint8Array(await readFile(r.path)), { intraOpThreads: 1 });
      const out = await s.run({ images: hostTensor('float32', [1, 5, 48, 32], new Float32Array(5 * 48 * 32).fill(0.3)) });
      await s.release();
      expect(out.patches.dims).toEqual([1, 6, 16]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

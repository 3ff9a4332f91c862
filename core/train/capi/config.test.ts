// The CAPI preset's config (strict keys, what CAPI's trainer does not combine with), the DINO trainer
// refusing a CAPI config, and the encoder dropping patches: keeping every patch is the plain forward.
import { describe, expect, it } from 'vitest';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { hostTensor } from '../../graph/tensor.js';
import { mulberry32 } from '../../common/random.js';
import { vitConfig } from '../../model/config.js';
import { buildViT } from '../../model/vit.js';
import { initParams, toGraphLayout } from '../../model/params.js';
import { trainConfig } from '../config.js';
import { Trainer } from '../trainer.js';

describe('CAPI config', () => {
  it('the capi preset: the official optimiser and CAPI keys; DINO presets keep objective dino', () => {
    const c = trainConfig('capi');
    expect(c.objective).toBe('capi');
    expect(c.capi).toMatchObject({
      studentTemp: 0.12,
      targetTemp: 0.06,
      predTemp: 0.12,
      sinkhornIterations: 3,
      maskRatio: 0.65,
      // official 0.05: on the preset's 7 × 7 grid that is 1 predicted patch an image (config.ts)
      predictFraction: 0.5,
    });
    expect(c.optim).toMatchObject({ baseLr: 0.001, beta2: 0.95, weightDecay: 0.1, weightDecayEnd: 0.1, patchEmbedLrMult: 0.2 });
    expect(c.crops.localCrops).toBe(0);
    expect(trainConfig('quick').objective).toBe('dino');
  });

  it('refuses what a CAPI run cannot do, in plain words', () => {
    expect(() => trainConfig('capi', { crops: { localCrops: 2 } })).toThrow(/global crops only/);
    expect(() => trainConfig('capi', { capi: { maskRatio: 1 } })).toThrow(/maskRatio/);
    expect(() => trainConfig('capi', { capi: { nosuch: 1 } as never })).toThrow(/unknown key capi.nosuch/);
    expect(() => trainConfig('quick', { objective: 'mae' as never })).toThrow(/objective must be dino or capi/);
  });

  it('the DINO trainer does not train a CAPI config', async () => {
    await expect(Trainer.create(trainConfig('capi'), { next: () => Promise.reject(new Error('unused')) })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('objective capi is not available'),
    });
  });
});

describe('encoder on the visible patches (buildViT visible)', () => {
  it('keeping every patch equals the plain forward; a subset gives (B, V, D)', async () => {
    const vit = vitConfig('tiny', { arch: 'dinov2', patchSize: 8, registers: 4, dim: 16, depth: 1, heads: 2, posEmbed: { gridSize: 3 } });
    const params = initParams(vit, 1);
    const g = new Graph('visible');
    const images = g.input('images', [2, 3, 24, 24]);
    const all = g.input('all', [18], 'int64');
    const some = g.input('some', [8], 'int64');
    const p = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, g.constant(toGraphLayout(k, t), k)]));
    g.output(buildViT(g, images, vit, { params: p }).patches, 'full');
    g.output(buildViT(g, images, vit, { params: p, visible: all }).patches, 'kept');
    g.output(buildViT(g, images, vit, { params: p, visible: some }).patches, 'subset');
    const r = mulberry32(2);
    const s = await Session.create(serialize(g));
    const out = await s.run({
      images: hostTensor(
        'float32',
        [2, 3, 24, 24],
        Array.from({ length: 2 * 3 * 24 * 24 }, () => r() - 0.5),
      ),
      all: hostTensor(
        'int64',
        [18],
        Array.from({ length: 18 }, (_, i) => i),
      ),
      some: hostTensor('int64', [8], [0, 1, 4, 8, 9, 10, 12, 17]),
    });
    await s.release();
    expect(out.kept.dims).toEqual([2, 9, 16]);
    const a = out.full.data as Float32Array;
    const b = out.kept.data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    expect(out.subset.dims).toEqual([2, 4, 16]);
  });
});

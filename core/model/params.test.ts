// Config validation, canonical parameter names and counts, initialisation and the graph-layout round trip.
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../graph/tensor.js';
import { ffnHidden, vitConfig } from './config.js';
import {
  bufferNames,
  fromGraphFeeds,
  fromGraphLayout,
  toGraphFeeds,
  graphParamShapes,
  initParams,
  paramCount,
  paramSpecs,
  toGraphLayout,
} from './params.js';

const same = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('vitConfig', () => {
  it('fills per-arch defaults', () => {
    const v2 = vitConfig('small', { arch: 'dinov2', registers: 4 });
    expect(v2).toMatchObject({
      patchSize: 14,
      dim: 384,
      depth: 12,
      heads: 6,
      eps: 1e-6,
      rope: null,
      posEmbed: { gridSize: 37, variant: 'size-antialias' },
    });
    expect(vitConfig('small', { registers: 0 }).posEmbed?.variant).toBe('offset');
    const v3 = vitConfig('base', { arch: 'dinov3' });
    expect(v3).toMatchObject({
      patchSize: 16,
      dim: 768,
      eps: 1e-5,
      maskKBias: true,
      posEmbed: null,
      rope: { base: 100, augment: { rescale: 2, shift: null } },
    });
    expect(vitConfig('large', { arch: 'dinov3', rope: { augment: { shift: 0.1 } } }).rope?.augment).toEqual({
      shift: 0.1,
      jitter: null,
      rescale: 2,
    });
  });
  it('rejects unknown keys and inconsistent values with BAD_INPUT', () => {
    expect(() => vitConfig('small', { regs: 4 } as never)).toThrow(/unknown key regs/);
    expect(() => vitConfig('small', { registers: -1 })).toThrow(/registers/);
    expect(() => vitConfig('small', { heads: 5 })).toThrow(/divisible/);
    expect(() => vitConfig('small', { arch: 'dinov3', heads: 64 })).toThrow(/head size divisible by 4/);
    expect(() => vitConfig('small', { maskKBias: true })).toThrow(/dinov3/);
    expect(() => vitConfig('small', { posEmbed: { variant: 'nearest' as never } })).toThrow(/variant/);
  });
  it('computes SwiGLU widths like the reference code', () => {
    expect(ffnHidden(vitConfig('small', { ffn: 'swiglu' }))).toBe(1024); // ((1024 + 7) // 8) · 8
    expect(ffnHidden(vitConfig('base', { arch: 'dinov3', ffn: 'swiglu' }))).toBe(2048);
    expect(ffnHidden(vitConfig('tiny', { arch: 'dinov3', ffn: 'swiglu', ffnRatio: 5 }))).toBe(640);
    expect(ffnHidden(vitConfig('tiny', { arch: 'dinov3', ffn: 'swiglu', ffnRatio: 5, swigluAlign: 64 }))).toBe(640);
  });
});

describe('paramSpecs', () => {
  it('matches the known parameter counts', () => {
    // dinov2_vits14_reg4 (pos-embed grid 37): 22,058,112; ViT-B/14 reg4: 86,583,552; ViT-L/14 reg4: 304,372,736 (hand-summed, and the
    // PyTorch reference modules in scripts/fixtures/vit_fixtures.py print the same).
    expect(paramCount(vitConfig('small', { registers: 4 }))).toBe(22_058_112);
    expect(paramCount(vitConfig('base', { registers: 4 }))).toBe(86_583_552);
    expect(paramCount(vitConfig('large', { registers: 4 }))).toBe(304_372_736);
    // DINOv3 ViT-S/16 with 4 storage tokens (no pos-embed): 21,601,152.
    expect(paramCount(vitConfig('small', { arch: 'dinov3' }))).toBe(21_601_152);
  });
  it('uses the original key layout with PyTorch shapes', () => {
    const c = vitConfig('small', { arch: 'dinov2', registers: 4 });
    const s = Object.fromEntries(paramSpecs(c).map((p) => [p.name, p]));
    expect(s['pos_embed'].shape).toEqual([1, 1370, 384]);
    expect(s['register_tokens'].shape).toEqual([1, 4, 384]);
    expect(s['mask_token'].shape).toEqual([1, 384]);
    expect(s['patch_embed.proj.weight'].shape).toEqual([384, 3, 14, 14]);
    expect(s['blocks.11.attn.qkv.weight'].shape).toEqual([1152, 384]);
    expect(s['blocks.3.mlp.fc1.weight'].shape).toEqual([1536, 384]);
    expect(s['blocks.3.ls2.gamma']).toMatchObject({ decay: false, layerId: 4, init: { kind: 'constant', value: 1e-5 } });
    expect(s['blocks.0.attn.qkv.bias'].decay).toBe(false);
    expect(s['blocks.0.norm1.weight'].decay).toBe(false);
    expect(s['blocks.0.attn.proj.weight']).toMatchObject({ decay: true, layerId: 1 });
    expect(s['cls_token']).toMatchObject({ decay: true, layerId: 0 });
    expect(s['norm.weight'].layerId).toBe(13);
    const v3 = paramSpecs(vitConfig('tiny', { arch: 'dinov3', registers: 0, ffn: 'swiglu' })).map((p) => p.name);
    expect(v3).not.toContain('storage_tokens');
    expect(v3).not.toContain('pos_embed');
    expect(v3).toContain('blocks.0.mlp.w2.weight');
    expect(paramSpecs(vitConfig('tiny', { arch: 'dinov3', registers: 4 })).map((p) => p.name)).toContain('storage_tokens');
    expect(bufferNames(vitConfig('tiny', { arch: 'dinov3' }))).toContain('blocks.11.attn.qkv.bias_mask');
  });
  it('initialises reproducibly with the recipe distributions', () => {
    const c = vitConfig('tiny', { depth: 1, registers: 4 });
    const a = initParams(c, 7);
    const b = initParams(c, 7);
    expect(same(a['blocks.0.mlp.fc1.weight'].data, b['blocks.0.mlp.fc1.weight'].data)).toBe(true);
    const w = a['blocks.0.mlp.fc1.weight'].data as Float32Array;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(maxAbs(a['cls_token'].data as Float32Array)).toBeLessThan(1e-5);
    expect([...(a['mask_token'].data as Float32Array)].every((v) => v === 0)).toBe(true);
    expect([...(a['blocks.0.ls1.gamma'].data as Float32Array)].every((v) => Math.abs(v - 1e-5) < 1e-12)).toBe(true);
    const pe = a['patch_embed.proj.weight'].data as Float32Array;
    expect(maxAbs(pe)).toBeLessThanOrEqual(1 / Math.sqrt(3 * 14 * 14));
  });
  it('converts to and from the graph layout', () => {
    const c = vitConfig('tiny', { depth: 1 });
    const shapes = graphParamShapes(c);
    expect(shapes['patch_embed.proj.weight']).toEqual([588, 192]);
    expect(shapes['blocks.0.attn.qkv.weight']).toEqual([192, 576]);
    const p = initParams(c, 1);
    for (const [name, t] of Object.entries(p)) {
      const g = toGraphLayout(name, t);
      expect(g.dims).toEqual(shapes[name]);
      const back = fromGraphLayout(name, g);
      expect(back.dims).toEqual(t.dims);
      expect(same(back.data, t.data)).toBe(true);
    }
    // (D=2, C=1, 1, 2): kernel rows (c, i, j) become graph rows.
    const k = hostTensor('float32', [2, 1, 1, 2], [1, 2, 3, 4]);
    expect([...toGraphLayout('patch_embed.proj.weight', k).data]).toEqual([1, 3, 2, 4]);
    expect([...toGraphLayout('blocks.0.attn.proj.weight', hostTensor('float32', [2, 3], [1, 2, 3, 4, 5, 6])).data]).toEqual([
      1, 4, 2, 5, 3, 6,
    ]);
  });
  it('converts whole parameter sets and names every missing, unknown or mis-shaped key', () => {
    const c = vitConfig('tiny', { depth: 1, registers: 0 });
    const p = initParams(c, 2);
    const feeds = toGraphFeeds(c, p);
    expect(feeds['blocks.0.mlp.fc2.weight'].dims).toEqual([768, 192]);
    const back = fromGraphFeeds(c, feeds);
    expect(same(back['patch_embed.proj.weight'].data, p['patch_embed.proj.weight'].data)).toBe(true);
    const broken = { ...p, 'blocks.0.attn.qkv.weight': hostTensor('float32', [2, 2]), extra: hostTensor('float32', [1]) };
    delete (broken as Record<string, unknown>)['norm.bias'];
    expect(() => toGraphFeeds(c, broken)).toThrow(
      /missing norm\.bias; unknown extra; mis-shaped blocks\.0\.attn\.qkv\.weight \[2, 2\] \(expected \[576, 192\]\)/,
    );
    expect(() => fromGraphFeeds(c, p)).toThrow(/mis-shaped patch_embed\.proj\.weight/);
  });
});

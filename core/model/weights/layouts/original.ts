// The original facebookresearch/dinov2 and dinov3 key layout: identical to our canonical names
// (core/model/params.ts). DINOv3 checkpoints also carry buffers we derive instead: rope_embed.periods and
// blocks.{i}.attn.qkv.bias_mask. Training checkpoints' `teacher.backbone.` / `backbone.` prefixes are
// stripped before detection (weights/import.ts).
import { paramSpecs } from '../../params.js';
import { configFromFacts, need, num } from './infer.js';
import { countBlocks, rename } from './maps.js';
import type { Layout } from './types.js';

export const originalLayout: Layout = {
  id: 'original',
  label: 'original DINOv2/DINOv3 (facebookresearch)',
  detect: (shapes) => shapes.has('cls_token') && shapes.has('mask_token') && shapes.has('blocks.0.attn.qkv.weight'),
  inferConfig(shapes, json) {
    const source = 'original-layout checkpoint';
    const [D, C, p] = need(shapes, 'patch_embed.proj.weight', 4, source);
    const v3 = shapes.has('storage_tokens') || shapes.has('rope_embed.periods') || !shapes.has('pos_embed');
    const regs = shapes.get(v3 ? 'storage_tokens' : 'register_tokens');
    const swiglu = shapes.has('blocks.0.mlp.w3.weight');
    const hidden = swiglu
      ? v3
        ? shapes.get('blocks.0.mlp.w1.weight')?.[0]
        : (shapes.get('blocks.0.mlp.w12.weight')?.[0] ?? 0) / 2
      : shapes.get('blocks.0.mlp.fc1.weight')?.[0];
    let pos: { gridSize: number; variant: 'offset' | 'size-antialias' } | undefined;
    if (!v3) {
      const L = need(shapes, 'pos_embed', 3, source)[1] - 1;
      // Register models resize their pos-embed by size with antialias; the others with the 0.1 offset.
      pos = { gridSize: Math.round(Math.sqrt(L)), variant: regs && regs[1] > 0 ? 'size-antialias' : 'offset' };
    }
    return configFromFacts(
      {
        arch: v3 ? 'dinov3' : 'dinov2',
        dim: D,
        depth: countBlocks(shapes.keys(), 'blocks.'),
        heads: num(json, 'num_heads') ?? num(json, 'num_attention_heads'),
        patchSize: p,
        inChans: C,
        registers: regs ? regs[1] : 0,
        ffn: swiglu ? 'swiglu' : 'mlp',
        hidden: hidden ?? 0,
        qkvBias: shapes.has('blocks.0.attn.qkv.bias'),
        maskKBias: v3 && shapes.has('blocks.0.attn.qkv.bias'),
        layerScale: shapes.has('blocks.0.ls1.gamma'),
        eps: num(json, 'layer_norm_eps'),
        ...(pos ? { pos } : {}),
      },
      source,
    );
  },
  keyMaps: (cfg) => paramSpecs(cfg).map((s) => rename(s.name, s.name, s.shape)),
  ignorable: (name) => name === 'rope_embed.periods' || /^blocks\.\d+\.attn\.qkv\.bias_mask$/.test(name),
};

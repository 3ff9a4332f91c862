// Hugging Face DINOv3ViTModel (transformers/models/dinov3_vit): keys verified against modeling_dinov3_vit.py.
// embeddings.{cls_token, mask_token [1, 1, D], register_tokens, patch_embeddings (a bare Conv2d)},
// layer.{i}.{norm1, attention.{q_proj, k_proj (no bias: key_bias=False), v_proj, o_proj}, layer_scale1.lambda1,
// norm2, mlp.{up_proj, down_proj} or gated mlp.{gate_proj, up_proj, down_proj}, layer_scale2.lambda1}, norm.
// The original SwiGLU w3(silu(w1 x) · w2 x) is HF's down(act(gate x) · up x): w1 = gate, w2 = up, w3 = down.
import type { ViTConfig } from '../../config.js';
import { paramSpecs } from '../../params.js';
import { bool, configFromFacts, need, num } from './infer.js';
import { blockIndex, countBlocks, fusedQkv, rename, storedOnly } from './maps.js';
import type { KeyMap, Layout } from './types.js';

const blockRenames: Record<string, string> = {
  'attn.proj.weight': 'attention.o_proj.weight',
  'attn.proj.bias': 'attention.o_proj.bias',
  'ls1.gamma': 'layer_scale1.lambda1',
  'ls2.gamma': 'layer_scale2.lambda1',
  'mlp.fc1.weight': 'mlp.up_proj.weight',
  'mlp.fc1.bias': 'mlp.up_proj.bias',
  'mlp.fc2.weight': 'mlp.down_proj.weight',
  'mlp.fc2.bias': 'mlp.down_proj.bias',
  'mlp.w1.weight': 'mlp.gate_proj.weight',
  'mlp.w1.bias': 'mlp.gate_proj.bias',
  'mlp.w2.weight': 'mlp.up_proj.weight',
  'mlp.w2.bias': 'mlp.up_proj.bias',
  'mlp.w3.weight': 'mlp.down_proj.weight',
  'mlp.w3.bias': 'mlp.down_proj.bias',
};

const topRenames: Record<string, string> = {
  cls_token: 'embeddings.cls_token',
  storage_tokens: 'embeddings.register_tokens',
  'patch_embed.proj.weight': 'embeddings.patch_embeddings.weight',
  'patch_embed.proj.bias': 'embeddings.patch_embeddings.bias',
};

export const hfDinov3Layout: Layout = {
  id: 'hf-dinov3',
  label: 'Hugging Face DINOv3ViTModel',
  detect: (shapes) => shapes.has('embeddings.patch_embeddings.weight') && shapes.has('layer.0.attention.q_proj.weight'),
  inferConfig(shapes, json) {
    const source = 'Hugging Face DINOv3ViT checkpoint';
    const [D, C, p] = need(shapes, 'embeddings.patch_embeddings.weight', 4, source);
    const gated = shapes.has('layer.0.mlp.gate_proj.weight') || bool(json, 'use_gated_mlp') === true;
    const hidden = shapes.get('layer.0.mlp.up_proj.weight')?.[0] ?? num(json, 'intermediate_size') ?? 0;
    const hasQBias = shapes.has('layer.0.attention.q_proj.bias');
    const hasKBias = shapes.has('layer.0.attention.k_proj.bias');
    const augment: Record<string, number | null> = {};
    for (const [ours, theirs] of [
      ['shift', 'pos_embed_shift'],
      ['jitter', 'pos_embed_jitter'],
      ['rescale', 'pos_embed_rescale'],
    ] as const) {
      const v = json && theirs in json ? num(json, theirs) : undefined; // null turns an augmentation off
      if (v !== undefined) augment[ours] = v;
    }
    return configFromFacts(
      {
        arch: 'dinov3',
        dim: D,
        depth: countBlocks(shapes.keys(), 'layer.'),
        heads: num(json, 'num_attention_heads'),
        patchSize: p,
        inChans: C,
        registers: shapes.get('embeddings.register_tokens')?.[1] ?? num(json, 'num_register_tokens') ?? 0,
        ffn: gated ? 'swiglu' : 'mlp',
        hidden,
        qkvBias: hasQBias,
        // key_bias=False with q/v biases is the original mask_k_bias.
        maskKBias: hasQBias && !hasKBias,
        layerScale: true,
        eps: num(json, 'layer_norm_eps'),
        rope: { ...(num(json, 'rope_theta') !== null ? { base: num(json, 'rope_theta') as number } : {}), augment },
      },
      source,
    );
  },
  keyMaps(cfg: ViTConfig): KeyMap[] {
    const D = cfg.dim;
    const maps: KeyMap[] = [];
    for (const s of paramSpecs(cfg)) {
      const b = blockIndex(s.name, 'blocks.');
      if (b) {
        const [i, rest] = b;
        const at = `layer.${i}.attention.`;
        if (rest === 'attn.qkv.weight')
          maps.push(fusedQkv(s.name, [`${at}q_proj.weight`, `${at}k_proj.weight`, `${at}v_proj.weight`], D, [D]));
        else if (rest === 'attn.qkv.bias')
          maps.push(fusedQkv(s.name, [`${at}q_proj.bias`, `${at}k_proj.bias`, `${at}v_proj.bias`], D, [], cfg.maskKBias));
        else maps.push(rename(s.name, `layer.${i}.${blockRenames[rest] ?? rest}`, s.shape));
      } else if (s.name === 'mask_token')
        maps.push(rename(s.name, 'embeddings.mask_token', s.shape, [1, 1, D])); // [1, D] ⇄ [1, 1, D]
      else maps.push(rename(s.name, topRenames[s.name] ?? s.name, s.shape));
    }
    if (cfg.registers === 0) maps.push(storedOnly('embeddings.register_tokens', [1, 0, D], 0));
    if (!cfg.layerScale.enabled) {
      for (let i = 0; i < cfg.depth; i++)
        for (const k of [1, 2]) maps.push(storedOnly(`layer.${i}.layer_scale${k}.lambda1`, [D], 1, false));
    }
    return maps;
  },
  ignorable: () => false,
};

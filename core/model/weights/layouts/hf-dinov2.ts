// Hugging Face Dinov2WithRegistersModel (transformers/models/dinov2_with_registers): keys verified against
// modeling_dinov2_with_registers.py and convert_dinov2_with_registers_to_hf.py. q/k/v are separate Linears
// (fused here into attn.qkv in chunk order q|k|v); SwiGLU is mlp.weights_in (= w12) / mlp.weights_out (= w3);
// register_tokens exists even with 0 registers ([1, 0, D]); LayerScale lambda1 is always present. Plain HF
// Dinov2Model checkpoints (facebook/dinov2-small …) have the same keys without register_tokens.
import { DinoscopeError } from '../../../common/errors.js';
import type { ViTConfig } from '../../config.js';
import { paramSpecs } from '../../params.js';
import { bool, configFromFacts, isSquare, need, num } from './infer.js';
import { blockIndex, countBlocks, fusedQkv, rename, storedOnly } from './maps.js';
import type { KeyMap, Layout } from './types.js';

const blockRenames: Record<string, string> = {
  'norm1.weight': 'norm1.weight',
  'norm1.bias': 'norm1.bias',
  'attn.proj.weight': 'attention.output.dense.weight',
  'attn.proj.bias': 'attention.output.dense.bias',
  'ls1.gamma': 'layer_scale1.lambda1',
  'norm2.weight': 'norm2.weight',
  'norm2.bias': 'norm2.bias',
  'mlp.fc1.weight': 'mlp.fc1.weight',
  'mlp.fc1.bias': 'mlp.fc1.bias',
  'mlp.fc2.weight': 'mlp.fc2.weight',
  'mlp.fc2.bias': 'mlp.fc2.bias',
  'mlp.w12.weight': 'mlp.weights_in.weight',
  'mlp.w12.bias': 'mlp.weights_in.bias',
  'mlp.w3.weight': 'mlp.weights_out.weight',
  'mlp.w3.bias': 'mlp.weights_out.bias',
  'ls2.gamma': 'layer_scale2.lambda1',
};

const topRenames: Record<string, string> = {
  cls_token: 'embeddings.cls_token',
  mask_token: 'embeddings.mask_token',
  pos_embed: 'embeddings.position_embeddings',
  register_tokens: 'embeddings.register_tokens',
  'patch_embed.proj.weight': 'embeddings.patch_embeddings.projection.weight',
  'patch_embed.proj.bias': 'embeddings.patch_embeddings.projection.bias',
  'norm.weight': 'layernorm.weight',
  'norm.bias': 'layernorm.bias',
};

export const hfDinov2Layout: Layout = {
  id: 'hf-dinov2',
  label: 'Hugging Face Dinov2WithRegistersModel',
  detect: (shapes) => shapes.has('embeddings.position_embeddings') && shapes.has('encoder.layer.0.attention.attention.query.weight'),
  inferConfig(shapes, json) {
    const source = 'Hugging Face Dinov2WithRegisters checkpoint';
    const [D, C, p] = need(shapes, 'embeddings.patch_embeddings.projection.weight', 4, source);
    const L = need(shapes, 'embeddings.position_embeddings', 3, source)[1] - 1;
    if (!isSquare(L))
      throw new DinoscopeError('BAD_INPUT', `${source}: embeddings.position_embeddings holds ${L} patch positions, not a square grid.`);
    const swiglu = shapes.has('encoder.layer.0.mlp.weights_in.weight');
    const hidden = swiglu
      ? (shapes.get('encoder.layer.0.mlp.weights_in.weight')?.[0] ?? 0) / 2
      : (shapes.get('encoder.layer.0.mlp.fc1.weight')?.[0] ?? 0);
    return configFromFacts(
      {
        arch: 'dinov2',
        dim: D,
        depth: countBlocks(shapes.keys(), 'encoder.layer.'),
        heads: num(json, 'num_attention_heads'),
        patchSize: p,
        inChans: C,
        registers: shapes.get('embeddings.register_tokens')?.[1] ?? num(json, 'num_register_tokens') ?? 0,
        ffn: swiglu || bool(json, 'use_swiglu_ffn') === true ? 'swiglu' : 'mlp',
        hidden,
        qkvBias: shapes.has('encoder.layer.0.attention.attention.query.bias'),
        maskKBias: false,
        layerScale: true,
        eps: num(json, 'layer_norm_eps'),
        // Dinov2WithRegisters resizes by size with antialias, as the original _reg models do. Plain HF Dinov2
        // (model_type "dinov2") resizes by size without antialias, which neither original variant does: its
        // weights are the original non-register models', so they get the original 0.1-offset resize.
        pos: { gridSize: Math.round(Math.sqrt(L)), variant: json?.model_type === 'dinov2' ? 'offset' : 'size-antialias' },
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
        const at = `encoder.layer.${i}.attention.attention.`;
        if (rest === 'attn.qkv.weight') maps.push(fusedQkv(s.name, [`${at}query.weight`, `${at}key.weight`, `${at}value.weight`], D, [D]));
        else if (rest === 'attn.qkv.bias') maps.push(fusedQkv(s.name, [`${at}query.bias`, `${at}key.bias`, `${at}value.bias`], D, []));
        else maps.push(rename(s.name, `encoder.layer.${i}.${blockRenames[rest] ?? rest}`, s.shape));
      } else maps.push(rename(s.name, topRenames[s.name] ?? s.name, s.shape));
    }
    if (cfg.registers === 0) maps.push(storedOnly('embeddings.register_tokens', [1, 0, D], 0));
    if (!cfg.layerScale.enabled) {
      // HF always has LayerScale: a model without it is LayerScale 1.
      for (let i = 0; i < cfg.depth; i++)
        for (const k of [1, 2]) maps.push(storedOnly(`encoder.layer.${i}.layer_scale${k}.lambda1`, [D], 1, false));
    }
    return maps;
  },
  ignorable: () => false,
};

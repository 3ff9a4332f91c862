// Writing canonical tensors in a layout: Hugging Face (Dinov2WithRegistersModel or DINOv3ViTModel by
// arch, with the config.json `transformers` loads), original facebookresearch, or timm. Field names of the
// HF configs follow configuration_dinov2_with_registers.py and configuration_dinov3_vit.py.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type ViTConfig, ffnHidden } from '../config.js';
import { paramSpecs } from '../params.js';
import { layoutById } from './layouts/registry.js';
import type { LayoutId } from './layouts/types.js';
import { type TensorToWrite, type WeightTensor, writeSafetensors } from './safetensors.js';

/** Canonical tensors → stored tensors of `layoutId` (in the layout's order). */
export function toLayout(layoutId: LayoutId, cfg: ViTConfig, tensors: ReadonlyMap<string, WeightTensor>): Map<string, WeightTensor> {
  const layout = layoutById(layoutId);
  const missing = paramSpecs(cfg)
    .filter((s) => !tensors.has(s.name))
    .map((s) => s.name);
  if (missing.length)
    throw new DinoscopeError('BAD_INPUT', `Cannot export: ${missing.length} parameters are missing (${missing.slice(0, 20).join(', ')}).`);
  const out = new Map<string, WeightTensor>();
  for (const m of layout.keyMaps(cfg, null)) {
    const stored = m.fromCanonical(m.canonical.map((n) => tensors.get(n) as WeightTensor));
    m.stored.forEach((k, i) => out.set(k.name, stored[i]));
  }
  return out;
}

/** The config.json `transformers` reads for this model. */
export function hfConfigJson(cfg: ViTConfig): Record<string, unknown> {
  const common = {
    hidden_size: cfg.dim,
    num_hidden_layers: cfg.depth,
    num_attention_heads: cfg.heads,
    patch_size: cfg.patchSize,
    num_channels: cfg.inChans,
    layer_norm_eps: cfg.eps,
    layerscale_value: 1.0,
    drop_path_rate: 0.0,
    initializer_range: 0.02,
    num_register_tokens: cfg.registers,
    torch_dtype: 'float32',
  };
  if (cfg.arch === 'dinov2') {
    const M = cfg.posEmbed?.gridSize ?? 0;
    return {
      architectures: ['Dinov2WithRegistersModel'],
      model_type: 'dinov2_with_registers',
      ...common,
      // HF recomputes the SwiGLU width from mlp_ratio with DINOv2's rounding, like ffnHidden.
      mlp_ratio: cfg.ffnRatio,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.0,
      attention_probs_dropout_prob: 0.0,
      image_size: M * cfg.patchSize,
      qkv_bias: cfg.qkvBias,
      use_swiglu_ffn: cfg.ffn === 'swiglu',
      apply_layernorm: true,
      reshape_hidden_states: true,
    };
  }
  const rope = cfg.rope;
  return {
    architectures: ['DINOv3ViTModel'],
    model_type: 'dinov3_vit',
    ...common,
    intermediate_size: ffnHidden(cfg),
    hidden_act: cfg.ffn === 'swiglu' ? 'silu' : 'gelu',
    attention_dropout: 0.0,
    image_size: 224,
    rope_theta: rope?.base ?? 100,
    query_bias: cfg.qkvBias,
    key_bias: cfg.qkvBias && !cfg.maskKBias,
    value_bias: cfg.qkvBias,
    proj_bias: true,
    mlp_bias: true,
    use_gated_mlp: cfg.ffn === 'swiglu',
    pos_embed_shift: rope?.augment.shift ?? null,
    pos_embed_jitter: rope?.augment.jitter ?? null,
    pos_embed_rescale: rope?.augment.rescale ?? null,
  };
}

export interface ExportResult {
  files: string[];
  /** Where the exported model behaves differently from ours (shown to the user). */
  notes: string[];
}

const asWritable = (m: Map<string, WeightTensor>, dtype: 'F32' | 'F16' | 'BF16'): Map<string, TensorToWrite> =>
  new Map([...m].map(([k, t]) => [k, { shape: t.shape, data: t.data, dtype }]));

/**
 * Writes `dir/model.safetensors` (+ `dir/config.json` for 'hf'). 'hf' picks Dinov2WithRegistersModel or
 * DINOv3ViTModel from cfg.arch.
 */
export async function exportWeights(
  dir: string,
  cfg: ViTConfig,
  tensors: ReadonlyMap<string, WeightTensor>,
  format: 'hf' | 'original' | 'timm',
  opts: { dtype?: 'F32' | 'F16' | 'BF16'; metadata?: Record<string, string> } = {},
): Promise<ExportResult> {
  await mkdir(dir, { recursive: true });
  const layoutId: LayoutId = format === 'hf' ? (cfg.arch === 'dinov2' ? 'hf-dinov2' : 'hf-dinov3') : format;
  const stored = toLayout(layoutId, cfg, tensors);
  const notes: string[] = [];
  const files = [join(dir, 'model.safetensors')];
  await writeSafetensors(files[0], asWritable(stored, opts.dtype ?? 'F32'), { format: 'pt', ...(opts.metadata ?? {}) });
  if (format === 'hf') {
    files.push(join(dir, 'config.json'));
    await writeFileAtomic(files[1], `${JSON.stringify(hfConfigJson(cfg), null, 2)}\n`);
    if (cfg.arch === 'dinov2' && cfg.posEmbed?.variant === 'offset')
      notes.push(
        'transformers resizes the position embedding by size with antialias; this model was trained with the 0.1-offset resize, so outputs differ slightly at other resolutions.',
      );
    if (!cfg.layerScale.enabled) notes.push('transformers always applies LayerScale: it is written as 1.');
  }
  if (format === 'timm') notes.push('timm form: no_embed_class (the class position is folded into cls_token); mask_token is not stored.');
  return { files, notes };
}

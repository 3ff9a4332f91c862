// The config file of an official trainer for a Dinoscope tile list. Both official loaders merge a train
// config over their default (facebookresearch/dinov2: dinov2/configs/ssl_default_config.yaml through
// load_and_merge_config; facebookresearch/dinov3: dinov3/configs/ssl_default_config.yaml through
// get_cfg_from_args), so the file holds only what differs, as their configs/train/*.yaml do: the dataset
// (our adapter's "Dinoscope:root=<tiles.csv>" string), the model, the batch and the schedule length. Every
// key must exist in the official default (a key it lacks is refused by a strict merge, or silently
// ignored); handoff.test.ts checks that against the defaults' keys.

export type Recipe = 'dinov2' | 'dinov3';
export const RECIPES: readonly Recipe[] = ['dinov2', 'dinov3'];
export const ARCHS = ['vit_small', 'vit_base', 'vit_large'] as const;
export type Arch = (typeof ARCHS)[number];

export interface RecipeConfigOptions {
  recipe: Recipe;
  /** The dataset string the adapter registers (dinoscope_tiles.py): Dinoscope:root=<absolute tiles.csv>. */
  datasetPath: string;
  arch: Arch;
  batchPerGpu: number;
  epochs: number;
  /** Iterations per "epoch" of the schedules (the official OFFICIAL_EPOCH_LENGTH). */
  epochLength: number;
  outputDir: string;
}

type YamlValue = string | number | boolean | null | readonly number[] | { [key: string]: YamlValue };

/** The config as a plain object (what the YAML says). */
export function recipeConfig(o: RecipeConfigOptions): Record<string, YamlValue> {
  const train = {
    dataset_path: o.datasetPath,
    output_dir: o.outputDir,
    batch_size_per_gpu: o.batchPerGpu,
    OFFICIAL_EPOCH_LENGTH: o.epochLength,
    // The map-style tile list, shuffled by the infinite sampler.
    cache_dataset: false,
    num_workers: 10,
  };
  const optim = { epochs: o.epochs, warmup_epochs: Math.max(1, Math.round(o.epochs / 10)) };
  const crops = { global_crops_size: 224, local_crops_size: 96 };
  const evaluation = { eval_period_iterations: o.epochLength * Math.max(1, Math.round(o.epochs / 10)) };
  if (o.recipe === 'dinov2')
    // configs/train/vitl16_short.yaml's shape, with registers (the DINOv2-with-registers models).
    return {
      train,
      student: { arch: o.arch, patch_size: 16, num_register_tokens: 4, block_chunks: 4 },
      teacher: { warmup_teacher_temp_epochs: Math.min(30, Math.max(1, Math.round(o.epochs * 0.3))) },
      optim,
      crops,
      evaluation,
    };
  // DINOv3: RoPE, 4 storage (register) tokens and the masked key bias of its released ViTs; an unsharded
  // teacher_checkpoint.pth at every evaluation, the file `dinoscope models import` reads.
  return {
    MODEL: { META_ARCHITECTURE: 'SSLMetaArch' },
    train: { ...train, sharded_eval_checkpoint: false },
    student: { arch: o.arch, patch_size: 16, n_storage_tokens: 4, mask_k_bias: true, pos_embed_type: 'rope' },
    teacher: { warmup_teacher_temp_epochs: Math.min(30, Math.max(1, Math.round(o.epochs * 0.3))) },
    optim,
    crops,
    evaluation,
  };
}

const scalar = (v: string | number | boolean | null): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Block-style YAML of nested mappings (strings double-quoted, which YAML reads as JSON strings). */
export function toYaml(obj: { [key: string]: YamlValue }, indent = ''): string {
  let out = '';
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v)) out += `${indent}${k}: [${v.join(', ')}]\n`;
    else if (v !== null && typeof v === 'object') out += `${indent}${k}:\n${toYaml(v as { [key: string]: YamlValue }, indent + '  ')}`;
    else out += `${indent}${k}: ${scalar(v as string | number | boolean | null)}\n`;
  }
  return out;
}

export function recipeConfigYaml(o: RecipeConfigOptions, header: string): string {
  return (
    header
      .split('\n')
      .map((l) => `# ${l}`.trimEnd())
      .join('\n') +
    '\n' +
    toYaml(recipeConfig(o))
  );
}

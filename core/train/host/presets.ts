// The presets the Train panel offers, with their main settings read from the merged config so the panel
// shows what a run will really use (core/train/config.ts owns the values).
import type { TrainPresetInfo } from '../../common/api.js';
import { type PresetName, scratchViT, trainConfig } from '../config.js';

const LABELS: Partial<Record<PresetName, { label: string; description: string; sizedFor: 'cpu' | 'gpu' }>> = {
  quick: { label: 'Quick — CPU, ViT-Tiny/16, 4 registers, 112 px', description: 'A small model that trains on a laptop CPU: 2 × 112 px global and 6 × 48 px local crops, 4096 prototypes.', sizedFor: 'cpu' },
  standard: { label: 'Standard — GPU, ViT-S/16, 4 registers, 224 px', description: 'The DINOv2 small model at the reference crop sizes (2 × 224 px + 8 × 96 px), 16384 prototypes; wants a GPU.', sizedFor: 'gpu' },
};

export const PRETRAIN_PRESETS: readonly PresetName[] = ['quick', 'standard'];

export function isPresetName(v: unknown): v is PresetName {
  return typeof v === 'string' && (PRETRAIN_PRESETS as readonly string[]).includes(v);
}

/** The pretraining presets ('adapt' ones join when the adaptation stage exports its list). */
export function trainPresets(): TrainPresetInfo[] {
  return PRETRAIN_PRESETS.map((name) => {
    const c = trainConfig(name);
    const v = scratchViT(c);
    return {
      name,
      ...(LABELS[name] ?? { label: name, description: name, sizedFor: 'cpu' as const }),
      stage: 'pretrain' as const,
      settings: { size: c.model.size, patchSize: v.patchSize, registers: v.registers, globalSize: c.crops.globalSize, localSize: c.crops.localSize, localCrops: c.crops.localCrops, batchSize: c.batchSize, steps: c.steps, prototypes: c.head.prototypes, baseLr: c.optim.baseLr },
    };
  });
}

// The presets the Train panel offers: core/train/config.ts PRESET_INFO (names, stages, labels) with each
// preset's main settings read from its merged config, so the panel shows what a run will really use.
import type { TrainPresetInfo } from '../../common/api.js';
import { PRESET_INFO, type PresetName, scratchViT, trainConfig } from '../config.js';

export function isPresetName(v: unknown): v is PresetName {
  return PRESET_INFO.some((p) => p.name === v);
}

/** Pretraining and high-resolution adaptation presets, in display order. */
export function trainPresets(): TrainPresetInfo[] {
  return PRESET_INFO.map((p) => {
    // An adapt preset needs the model to adapt; any path satisfies the config check (nothing is read).
    const c = trainConfig(p.name, p.stage === 'adapt' ? { model: { from: 'model.safetensors' } } : {});
    const v = scratchViT(c);
    return {
      name: p.name,
      label: p.label,
      description: p.description,
      stage: p.stage,
      sizedFor: p.sizedFor,
      objective: c.objective,
      settings: {
        size: c.model.size,
        patchSize: v.patchSize,
        depth: v.depth,
        registers: v.registers,
        globalSize: c.crops.globalSize,
        localSize: c.crops.localSize,
        localCrops: c.crops.localCrops,
        batchSize: c.batchSize,
        steps: c.steps,
        prototypes: c.objective === 'capi' ? c.capi.prototypes : c.head.prototypes,
        baseLr: c.optim.baseLr,
        ...(p.stage === 'pretrain' ? { continuedBaseLr: trainConfig(p.name, { model: { from: 'model.safetensors' } }).optim.baseLr } : {}),
      },
    };
  });
}

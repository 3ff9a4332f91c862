// The Quick preset as the host describes it (core/train/host/presets.ts), for the Train panel's unit tests.
import type { TrainPresetInfo } from '../../../../core/common/api.js';

export const QUICK_PRESET: TrainPresetInfo = {
  name: 'quick',
  label: 'Quick',
  description: '',
  stage: 'pretrain',
  sizedFor: 'cpu',
  objective: 'dino',
  settings: {
    size: 'tiny',
    patchSize: 16,
    depth: 6,
    registers: 4,
    globalSize: 112,
    localSize: 48,
    localCrops: 6,
    batchSize: 16,
    steps: 1000,
    prototypes: 1024,
    baseLr: 0.004,
  },
};

// The hardware line's parts and its warning for a GPU-sized preset on a computer without a GPU.
import { describe, expect, it } from 'vitest';
import type { TrainHardware, TrainPresetInfo } from '../../../../core/common/api.js';
import { deviceParts, slowWarning } from './devices.js';

const settings = {
  size: 'small',
  patchSize: 16,
  depth: 12,
  registers: 4,
  globalSize: 224,
  localSize: 96,
  localCrops: 8,
  batchSize: 32,
  steps: 1000,
  prototypes: 16384,
  baseLr: 0.004,
};
const standard: TrainPresetInfo = {
  name: 'standard',
  label: 'Standard',
  description: '',
  stage: 'pretrain',
  sizedFor: 'gpu',
  objective: 'dino',
  settings,
};
const quick: TrainPresetInfo = { ...standard, name: 'quick', label: 'Quick', sizedFor: 'cpu' };
const cpuOnly: TrainHardware = {
  providers: [
    { name: 'webgpu', available: false, note: 'No GPU adapter was found.' },
    { name: 'cpu', available: true },
  ],
  selected: 'cpu',
  cpuThreads: 2,
};
const withGpu: TrainHardware = {
  providers: [
    { name: 'webgpu', available: true },
    { name: 'cpu', available: true },
  ],
  selected: 'webgpu',
  cpuThreads: 16,
};

describe('device parts', () => {
  it('says where training, crops and extraction run', () => {
    const words = (h: TrainHardware, p: TrainPresetInfo): string[] => deviceParts(h, p).map((d) => `${d.part}: ${d.label}`);
    expect(words(cpuOnly, standard)).toEqual(['Training: CPU, 2 threads, fp32', 'Crops: CPU, 2 threads', 'Extraction: CPU, 2 threads']);
    expect(words(withGpu, standard)).toEqual(['Training: WebGPU, fp32', 'Crops: CPU, 16 threads', 'Extraction: WebGPU']); // no float16 on its adapter
    expect(words(withGpu, quick)).toEqual(['Training: CPU, 16 threads, fp32', 'Crops: CPU, 16 threads', 'Extraction: WebGPU']); // Quick is sized for the CPU
    const f16: TrainHardware = {
      ...withGpu,
      providers: [
        { name: 'webgpu', available: true, float16: true },
        { name: 'cpu', available: true },
      ],
    };
    expect(words(f16, standard)).toEqual(['Training: WebGPU, mixed precision', 'Crops: CPU, 16 threads', 'Extraction: WebGPU']);
    expect(words(f16, quick)[0]).toBe('Training: CPU, 16 threads, fp32');
  });

  it('warns when a GPU-sized preset would train on the CPU, with the measured step time', () => {
    expect(slowWarning(cpuOnly, standard, { state: 'measured', secondsPerStep: 41.3 })).toBe(
      'Standard trains on the CPU here, without a GPU: about 41 s a step (measured here). It is sized for a GPU; a CPU-sized preset is faster on this computer.',
    );
    expect(slowWarning(cpuOnly, standard, { state: 'measuring' })).toBe(
      'Standard trains on the CPU here, without a GPU: expect it to be slow (the time of a step shows below once measured). It is sized for a GPU; a CPU-sized preset is faster on this computer.',
    );
    expect(slowWarning(cpuOnly, quick, { state: 'measured', secondsPerStep: 2 })).toBeNull();
    expect(slowWarning(withGpu, standard, undefined)).toBeNull();
    expect(slowWarning(cpuOnly, null, undefined)).toBeNull();
  });
});

// runtime.precision resolved for the device a run trains on (core/train/precision.ts): auto is mixed where the
// provider runs float16 (CUDA; WebGPU whose adapter ran the probe's float16 model) and fp32 on the CPU; an
// explicit mixed where it cannot run is fp32 with one plain-words warning; the config checks the key.
import { describe, expect, it } from 'vitest';
import type { TrainHardware } from '../common/api.js';
import { type Overrides, type TrainConfig, trainConfig } from './config.js';
import { trainRuntime } from './device.js';
import { type PrecisionRequest, resolvePrecision } from './precision.js';

const gpuMachine = (webgpuFloat16: boolean) => async (): Promise<TrainHardware> => ({
  providers: [
    { name: 'cuda', available: false, note: 'x', detail: 'cuda unavailable' },
    { name: 'webgpu', available: true, float16: webgpuFloat16 },
    { name: 'cpu', available: true },
  ],
  selected: 'webgpu',
  cpuThreads: 16,
});

const config = (precision: PrecisionRequest, o: Overrides = {}): TrainConfig =>
  trainConfig('standard', { ...o, runtime: { device: 'auto', precision, ...o.runtime } });

describe('training precision', () => {
  it('auto: mixed on CUDA and on WebGPU with float16, fp32 on WebGPU without it and on the CPU', () => {
    expect(resolvePrecision('auto', 'cuda', true)).toEqual({
      precision: 'mixed',
      line: 'precision: auto → mixed (float16 products on cuda, float32 master weights, dynamic loss scaling).',
      fellBack: false,
    });
    expect(resolvePrecision('auto', 'webgpu', true).precision).toBe('mixed');
    expect(resolvePrecision('auto', 'webgpu', false)).toEqual({
      precision: 'fp32',
      line: 'precision: auto → fp32 (this WebGPU adapter lacks float16 support, the shader-f16 feature).',
      fellBack: false,
    });
    expect(resolvePrecision('auto', 'cpu', false).line).toBe('precision: auto → fp32 (on the CPU).');
    expect(resolvePrecision('fp32', 'cuda', true)).toEqual({ precision: 'fp32', line: 'precision: fp32 (as asked).', fellBack: false });
    expect(resolvePrecision('mixed', 'webgpu', true)).toEqual({
      precision: 'mixed',
      line: 'precision: mixed (as asked; float16 products on webgpu).',
      fellBack: false,
    });
    expect(resolvePrecision('mixed', 'cpu', false)).toEqual({
      precision: 'fp32',
      line: 'warning: mixed precision needs a GPU that runs float16, and this run trains on the CPU. Training runs in fp32 instead. Choose precision auto or fp32 to silence this.',
      fellBack: true,
    });
  });

  it("a run's precision follows its device and the probe's float16; every preset asks for auto; a bad value is BAD_INPUT", async () => {
    expect((await trainRuntime(config('auto'), {}, gpuMachine(true))).precision.precision).toBe('mixed');
    expect((await trainRuntime(config('auto'), {}, gpuMachine(false))).precision.precision).toBe('fp32');
    expect((await trainRuntime(config('auto', { runtime: { device: 'cpu' } }), {}, gpuMachine(true))).precision.precision).toBe('fp32');
    const fell = await trainRuntime(config('mixed'), {}, gpuMachine(false));
    expect([fell.precision.precision, fell.precision.fellBack]).toEqual(['fp32', true]);
    expect(fell.precision.line).toMatch(/^warning: mixed precision needs a GPU that runs float16, and this WebGPU adapter/);
    // Runtime options given by a test or bench: fp32 unless the precision is given too.
    expect((await trainRuntime(config('auto'), { providers: ['webgpu'] }, gpuMachine(true))).precision.precision).toBe('fp32');
    expect((await trainRuntime(config('auto'), { providers: ['cpu'] }, gpuMachine(true), 'mixed')).precision.precision).toBe('mixed');
    for (const p of ['quick', 'standard'] as const) expect(trainConfig(p).runtime.precision).toBe('auto');
    expect(() => trainConfig('quick', { runtime: { precision: 'bf16' as PrecisionRequest } })).toThrow(
      /runtime\.precision must be auto, fp32 or mixed, got "bf16"/,
    );
  });
});

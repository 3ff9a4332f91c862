// Training and extraction decide their execution providers with the one resolver (core/hardware/device.ts):
// for every device choice, against a probe of a WebGPU machine without cuDNN and of a CPU-only machine, both
// paths resolve the same providers, and a requested provider that is absent gives both the same plain-words
// warning (only the subject differs). On this machine, a real Trainer asked for an absent GPU logs that
// warning and trains on the CPU. Configs saved before runtime.device (runtime.providers) still load.
import { describe, expect, it } from 'vitest';
import type { TrainHardware } from '../common/api.js';
import { QUICK_CROPS } from '../data/train/augment/multicrop.js';
import { maskBatch } from '../data/train/masking.js';
import { Rng } from '../data/train/random.js';
import { chooseDevice } from '../features/extract/device.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../hardware/device.js';
import { probeHardware } from '../hardware/hardware.js';
import { type Overrides, type TrainConfig, completeConfig, trainConfig } from './config.js';
import { trainRuntime } from './device.js';
import { Trainer } from './trainer.js';

const cudnnMissing =
  'cuda unavailable (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library); onnxruntime: Failed to load library /opt/dinoscope/libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory';
const webgpuMachine = async (): Promise<TrainHardware> => ({
  providers: [
    {
      name: 'cuda',
      available: false,
      note: 'The NVIDIA cuDNN 9 libraries are not installed. Dinoscope uses WebGPU instead.',
      detail: cudnnMissing,
    },
    { name: 'webgpu', available: true },
    { name: 'cpu', available: true },
  ],
  selected: 'webgpu',
  cpuThreads: 16,
});
const cpuMachine = async (): Promise<TrainHardware> => ({
  providers: [
    {
      name: 'cuda',
      available: false,
      note: 'x',
      detail:
        'cuda unavailable (…); onnxruntime: Failed to load library libonnxruntime_providers_shared.so with error: libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory',
    },
    { name: 'webgpu', available: false, note: 'x', detail: 'webgpu unavailable (Failed to get a WebGPU adapter: no adapter)' },
    { name: 'cpu', available: true },
  ],
  selected: 'cpu',
  cpuThreads: 2,
});

const config = (device: DeviceRequest, o: Overrides = {}): TrainConfig => trainConfig('quick', { ...o, runtime: { ...o.runtime, device } });

describe('one device resolver for training and extraction', () => {
  it('resolves the same providers for the same choice, and the same plain-words warning for an absent provider', async () => {
    for (const [machine, probe] of [
      ['webgpu', webgpuMachine],
      ['cpu-only', cpuMachine],
    ] as const) {
      for (const device of DEVICE_REQUESTS) {
        const extraction = await chooseDevice(device, probe);
        const training = await trainRuntime(config(device), {}, probe);
        const what = `${device} on the ${machine} machine`;
        expect(training.runtime.providers, what).toEqual(extraction.providers);
        expect(training.device.fellBack, what).toBe(extraction.fellBack);
        expect(training.device.detail, what).toBe(extraction.detail);
        expect(training.device.line, what).toBe(extraction.line.replace('Extraction runs', 'Training runs'));
      }
    }
    const cuda = await trainRuntime(config('cuda'), {}, webgpuMachine);
    expect(cuda.runtime.providers).toEqual(['cpu']); // not the selected webgpu: cpu is the fallback, as in extraction
    expect(cuda.device.line).toBe(
      "warning: device cuda is not available here: the NVIDIA cuDNN 9 libraries are not installed. Training runs on the CPU instead. To use the NVIDIA GPU, install cuDNN 9 for CUDA 12 (NVIDIA's cudnn9-cuda-12 package).",
    );
    expect((await trainRuntime(config('auto'), {}, webgpuMachine)).runtime.providers).toEqual(['webgpu']);
    expect((await trainRuntime(config('cpu', { runtime: { threads: 3 } }))).runtime).toEqual({ providers: ['cpu'], intraOpThreads: 3 });
  });

  it('presets sized for a GPU ask for auto, those for the CPU for cpu; a bad device is BAD_INPUT; configs saved with providers load', () => {
    expect(trainConfig('quick').runtime.device).toBe('cpu');
    expect(trainConfig('adapt-cpu', { model: { from: 'm.safetensors' } }).runtime.device).toBe('cpu');
    expect(trainConfig('standard').runtime.device).toBe('auto');
    expect(trainConfig('adapt-gpu', { model: { from: 'm.safetensors' } }).runtime.device).toBe('auto');
    expect(() => trainConfig('quick', { runtime: { device: 'gpu' as DeviceRequest } })).toThrow(
      /runtime\.device must be auto, cpu, webgpu or cuda, got "gpu"/,
    );
    const saved = (providers: string[]): TrainConfig => {
      const { device, precision, ...runtime } = trainConfig('standard').runtime; // as written before both keys
      void device;
      void precision;
      return { ...trainConfig('standard'), runtime: { ...runtime, providers } } as unknown as TrainConfig;
    };
    // Saved before runtime.precision too: it resumes in the fp32 it ran in.
    expect(completeConfig(saved(['cuda', 'webgpu', 'cpu'])).runtime).toEqual({
      device: 'auto',
      precision: 'fp32',
      threads: 0,
      remat: false,
    });
    expect(completeConfig(saved(['cpu'])).runtime.device).toBe('cpu');
  });

  it('a trainer asked for a GPU this machine lacks logs the plain-words warning and trains on the CPU', async () => {
    const hw = await probeHardware();
    const absent = (['webgpu', 'cuda'] as const).find((d) => !hw.providers.find((p) => p.name === d)?.available);
    if (!absent) return; // a machine with both GPU providers: nothing is absent
    const B = 2;
    const cfg = config(absent, {
      steps: 2,
      batchSize: B,
      model: {
        size: 'tiny',
        vit: { arch: 'dinov2', patchSize: 8, registers: 0, dim: 16, depth: 1, heads: 2, posEmbed: { gridSize: 2 } },
        from: null,
      },
      crops: { globalSize: 16, localSize: 8, localCrops: 0 },
      head: { prototypes: 16, hidden: 16, bottleneck: 8 },
      health: { every: 0 },
      runtime: { threads: 1 },
    });
    const rng = Rng.seeded(1, 0);
    const global = Float32Array.from({ length: 2 * B * 3 * 16 * 16 }, () => rng.uniform(-1, 1));
    const batch = {
      step: 0,
      crops: { batch: B, global, local: new Float32Array(0), config: { ...QUICK_CROPS, globalSize: 16, localSize: 8, localCrops: 0 } },
      masks: maskBatch(rng, 2 * B, { gridH: 2, gridW: 2 }),
      tiles: [],
    };
    const log: string[] = [];
    const warnings: string[] = []; // Session.create's: a provider tried in this process and failed
    const tr = await Trainer.create(
      cfg,
      { next: async () => batch },
      { log: (l) => log.push(l), runtime: { warn: (m) => warnings.push(m) } },
    );
    try {
      expect(log).toEqual([
        (await chooseDevice(absent)).line.replace('Extraction runs', 'Training runs'),
        'precision: auto → fp32 (on the CPU).',
      ]);
      expect(log[0]).toMatch(
        new RegExp(`^warning: device ${absent} is not available here: .*\\. Training runs on the CPU instead\\. [A-Z].*\\.$`),
      );
      const r = await tr.step();
      expect(r.step).toBe(1);
      expect(r.signals.nan).toBe(false);
      expect(warnings).toEqual([]); // the absent provider was never tried: the sessions were created on cpu
    } finally {
      await tr.close();
    }
  }, 90_000);
});

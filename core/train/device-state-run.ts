// Child-process script for the device-state test and bench: trains a tiny ViT (the Quick preset's step) for
// a few steps on the providers given, and writes the losses, the final student/teacher/optimiser state and
// the host ↔ device traffic of every step as JSON. Run it with SwiftShader's environment
// (core/graph/swiftshader.ts) for WebGPU on a machine without a GPU:
//   node --import tsx core/train/device-state-run.ts OUT.json STEPS PROVIDER DEVICE_STATES
// DEVICE_STATES is a comma list of 1 (state on the device) and 0 (through the host), run one after the other
// in this process (WebGPU compiles its shaders once); OUT gets an array of DeviceStateRun.
import { writeFile } from 'node:fs/promises';
import { type TrainBatch } from '../data/train/batch.js';
import { type Provider, resetTransfers, transfers } from '../graph/runtime.js';
import { type Overrides, trainConfig } from './config.js';
import { Trainer } from './trainer.js';
import { synthBatch as synth } from './fixtures/synth-batch.js';

const B = 4;
const G = 32;
const L = 16;
export const TINY: Overrides = {
  seed: 7,
  steps: 20,
  batchSize: B,
  model: {
    size: 'tiny',
    vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 2, heads: 2, posEmbed: { gridSize: 4 } },
    from: null,
  },
  crops: { globalSize: G, localSize: L, localCrops: 2 },
  head: { prototypes: 64, hidden: 64, bottleneck: 16 },
  optim: { baseLr: 0.01, warmupFraction: 0, freezeLastLayerFraction: 0.1 },
  teacher: { tempWarmupFraction: 0.5 },
  health: { every: 0 },
  runtime: { threads: 1 },
};

const synthBatch = (step: number, seed = 3): TrainBatch => synth(step, { batch: B, global: G, local: L }, seed);

export interface DeviceStateRun {
  provider: string;
  deviceState: boolean;
  losses: number[];
  /** Host ↔ device traffic of each step (runtime.ts `transfers`). */
  traffic: { uploadBytes: number; downloadBytes: number; readbacks: number }[];
  /** Bytes of all state (student, teacher, optimiser). */
  stateBytes: number;
  state: Record<'student' | 'teacher' | 'optimizer', Record<string, number[]>>;
  /** Wall time of each step (SwiftShader's mean nothing). */
  stepMs: number[];
}

export async function trainTiny(steps: number, provider: Provider, deviceState: boolean): Promise<DeviceStateRun> {
  let s = 0;
  const warnings: string[] = [];
  const tr = await Trainer.create(
    trainConfig('quick', { ...TINY, steps, runtime: { threads: 1, device: 'cpu' } }),
    { next: async () => synthBatch(s++) },
    { runtime: { providers: [provider], deviceState, warn: (m) => warnings.push(m) } },
  );
  if (warnings.length) throw new Error(`device-state-run: ${warnings.join('; ')}`);
  const losses: number[] = [];
  const traffic: DeviceStateRun['traffic'] = [];
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    resetTransfers();
    const t0 = performance.now();
    losses.push((await tr.step()).losses.total);
    stepMs.push(performance.now() - t0);
    traffic.push(transfers());
  }
  const st = await tr.state();
  await tr.close();
  const state = { student: {}, teacher: {}, optimizer: {} } as DeviceStateRun['state'];
  let stateBytes = 0;
  for (const part of ['student', 'teacher', 'optimizer'] as const) {
    for (const [k, t] of st[part]) {
      state[part][k] = Array.from(t.data as Float32Array);
      stateBytes += t.data.byteLength;
    }
  }
  return { provider, deviceState, losses, traffic, stateBytes, state, stepMs };
}

if (process.argv[1]?.endsWith('device-state-run.ts')) {
  const [out, steps, provider, states] = process.argv.slice(2);
  const runs: DeviceStateRun[] = [];
  for (const d of states.split(',')) runs.push(await trainTiny(Number(steps), provider as Provider, d === '1'));
  await writeFile(out, JSON.stringify(runs));
}

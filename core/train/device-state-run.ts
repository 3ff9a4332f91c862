// Child-process script for the device-state test and bench: trains a tiny ViT (the Quick preset's step) for
// a few steps on the providers given, and writes the losses, the final student/teacher/optimiser state and
// the host ↔ device traffic of every step as JSON. Run it with SwiftShader's environment
// (core/graph/swiftshader.ts) for WebGPU on a machine without a GPU:
//   node --import tsx core/train/device-state-run.ts OUT.json STEPS PROVIDER RUNS [SNAPSHOT]
// RUNS is a comma list of 1 (state on the device) and 0 (through the host), each optionally `:N` to stop
// after the first N steps of the STEPS-step plan; they run one after the other in this process (WebGPU
// compiles its shaders once). SNAPSHOT: every run also reads its state after that many steps, as a
// checkpoint mid-run does. OUT gets an array of DeviceStateRun.
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
  /** The state read after `snapshotAt` steps (trainTiny's option), as a checkpoint mid-run reads it. */
  snapshot?: DeviceStateRun['state'];
  /** Wall time of each step (SwiftShader's mean nothing). */
  stepMs: number[];
}

type State = DeviceStateRun['state'];

/** The student, teacher and optimiser state as plain arrays per tensor, and its bytes. */
async function readState(tr: Trainer): Promise<{ state: State; bytes: number }> {
  const st = await tr.state();
  const state = { student: {}, teacher: {}, optimizer: {} } as State;
  let bytes = 0;
  for (const part of ['student', 'teacher', 'optimizer'] as const) {
    for (const [k, t] of st[part]) {
      state[part][k] = Array.from(t.data as Float32Array);
      bytes += t.data.byteLength;
    }
  }
  return { state, bytes };
}

/**
 * `opts.run` steps (all by default) of a `steps`-step plan (the schedule is the plan's); with
 * `opts.snapshotAt`, the state is also read after that many steps (`snapshot`).
 */
export async function trainTiny(
  steps: number,
  provider: Provider,
  deviceState: boolean,
  opts: { run?: number; snapshotAt?: number } = {},
): Promise<DeviceStateRun> {
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
  let snapshot: State | undefined;
  for (let i = 0; i < (opts.run ?? steps); i++) {
    resetTransfers();
    const t0 = performance.now();
    losses.push((await tr.step()).losses.total);
    stepMs.push(performance.now() - t0);
    traffic.push(transfers());
    if (i + 1 === opts.snapshotAt) snapshot = (await readState(tr)).state;
  }
  const { state, bytes: stateBytes } = await readState(tr);
  await tr.close();
  return { provider, deviceState, losses, traffic, stateBytes, state, stepMs, ...(snapshot ? { snapshot } : {}) };
}

if (process.argv[1]?.endsWith('device-state-run.ts')) {
  const [out, steps, provider, list, snapshot] = process.argv.slice(2);
  const runs: DeviceStateRun[] = [];
  for (const r of list.split(',')) {
    const [d, n] = r.split(':');
    const opts = { run: n ? Number(n) : undefined, snapshotAt: snapshot ? Number(snapshot) : undefined };
    runs.push(await trainTiny(Number(steps), provider as Provider, d === '1', opts));
  }
  await writeFile(out, JSON.stringify(runs));
}

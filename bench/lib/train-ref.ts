// Shared by the train and gpu benchmarks: random training batches (the crop pipeline has its own bench)
// and one run of the PyTorch reference step (bench/python/train_ref.py) on the same configuration.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TrainBatch } from '../../core/data/train/batch.js';
import { QUICK_CROPS } from '../../core/data/train/augment/multicrop.js';
import { maskBatch } from '../../core/data/train/masking.js';
import { Rng } from '../../core/data/train/random.js';
import { type TrainConfig, scratchViT } from '../../core/train/config.js';
import { torchEnv } from './torch-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Random crops and masks for step `step` of config `c` (seeded, so both providers see the same batch). */
export function randomBatch(c: TrainConfig, step: number): TrainBatch {
  const rng = Rng.seeded(1, step);
  const B = c.batchSize;
  const fill = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-2, 2));
  const { globalSize: G, localSize: L, localCrops: nL } = c.crops;
  const grid = G / scratchViT(c).patchSize;
  return {
    step,
    crops: {
      batch: B,
      global: fill(2 * B * 3 * G * G),
      local: fill(nL * B * 3 * L * L),
      config: { ...QUICK_CROPS, globalSize: G, localSize: L, localCrops: nL },
    },
    masks: maskBatch(rng, 2 * B, { gridH: grid, gridW: grid }),
    tiles: [],
  };
}

export interface TorchTrainOptions {
  threads: number;
  steps: number;
  /** Python with torch (default Debian's /usr/bin/python3: the python3 first on PATH cannot see python3-torch). */
  python?: string;
  /** torch device (default cpu). */
  device?: string;
  /** The repository root holding bench/python (default: two folders above this file; a bundled bench passes its own). */
  root?: string;
}

/** Per-step milliseconds of the PyTorch reference step after one warm-up step. */
export function torchTrainSteps(c: TrainConfig, o: TorchTrainOptions): number[] {
  const v = scratchViT(c);
  const args = {
    dim: v.dim,
    depth: v.depth,
    heads: v.heads,
    patch: v.patchSize,
    registers: v.registers,
    batch: c.batchSize,
    'global-size': c.crops.globalSize,
    'local-size': c.crops.localSize,
    'local-crops': c.crops.localCrops,
    prototypes: c.head.prototypes,
    hidden: c.head.hidden,
    bottleneck: c.head.bottleneck,
    steps: o.steps,
    warmup: 1,
    threads: o.threads,
  };
  const argv = [
    join(o.root ?? root, 'bench/python/train_ref.py'),
    ...Object.entries(args).flatMap(([k, x]) => [`--${k}`, String(x)]),
    '--device',
    o.device ?? 'cpu',
  ];
  const python = o.python ?? '/usr/bin/python3';
  const r = spawnSync(python, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: torchEnv({ OMP_NUM_THREADS: String(o.threads) }) });
  if (r.status !== 0) throw new Error(`train_ref.py failed (status ${r.status}); does ${python} have torch?`);
  return (JSON.parse(r.stdout.toString().trim().split('\n').pop() ?? '{}') as { ms: number[] }).ms;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

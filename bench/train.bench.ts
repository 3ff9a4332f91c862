// `npm run bench -- train`: training throughput (tiles per second; each tile is 2 global +
// nLocal local crops) of our whole step — teacher forward, student forward/backward/AdamW as one graph, EMA —
// against the same step in PyTorch (bench/python/train_ref.py: same crops, heads, losses, clipping, AdamW,
// EMA), for
//   quick:  the Quick preset (ViT-Tiny/16 with 6 blocks, reg4, 2 × 112 px + 6 × 48 px, B 16, K 1024, hidden
//           1024, bottleneck 64; until 2026-12-07 it had 12 blocks, B 32, K 4096 and bottleneck 256)
//   small:  ViT-S/16 reg4 at 224 px (2 × 224 + 8 × 96, K 16384, hidden 2048) — the Standard preset's model,
//           at a CPU-sized batch
// Both sides get random crops (the crop pipeline has its own bench), the same thread count, and run one
// after the other (the machine is shared and noisy: read the per-step times on stderr).
// First, per configuration, the nodes and kernels of one step (student step + teacher + EMA; kernels: the
// kernel events of one onnxruntime run on the CPU, bench/lib/step-kernels.ts) with the parameters in flat
// buffers and, as before them, one tensor each with a per-tensor AdamW (core/graph/optim-per-tensor.ts).
// Last line: `ratio <ours/pytorch throughput>`, the geometric mean over the configurations run.
// Environment: BENCH_THREADS (2), BENCH_STEPS (3 timed, after 1 warm-up), BENCH_QUICK_BATCH (the preset's),
// BENCH_SMALL_BATCH (8), BENCH_ONLY (quick | small), BENCH_COUNTS_ONLY=1 (the counts, no timing).
import { type TrainConfig, scratchViT, trainConfig } from '../core/train/config.js';
import { Trainer } from '../core/train/trainer.js';
import { median, randomBatch, torchTrainSteps } from './lib/train-ref.js';
import { type StepCounts, stepCounts } from './lib/step-kernels.js';
import { fmtMachine } from './lib/machine.js';

const threads = Number(process.env.BENCH_THREADS ?? 2);
const steps = Number(process.env.BENCH_STEPS ?? 3);
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

async function ours(c: TrainConfig): Promise<number[]> {
  let s = 0;
  const tr = await Trainer.create(c, { next: async () => randomBatch(c, s++) });
  const ms: number[] = [];
  try {
    for (let i = 0; i < 1 + steps; i++) {
      const t0 = performance.now();
      const r = await tr.step();
      const dt = performance.now() - t0;
      log(`ours step ${i} ${dt.toFixed(0)} ms loss ${r.losses.total.toFixed(4)}`);
      if (i >= 1) ms.push(dt);
    }
  } finally {
    await tr.close();
  }
  return ms;
}

const torch = (c: TrainConfig): number[] => torchTrainSteps(c, { threads, steps });

const configs: Record<string, TrainConfig> = {
  quick: trainConfig('quick', {
    ...(process.env.BENCH_QUICK_BATCH ? { batchSize: Number(process.env.BENCH_QUICK_BATCH) } : {}),
    runtime: { threads },
  }),
  small: trainConfig('standard', { batchSize: Number(process.env.BENCH_SMALL_BATCH ?? 8), runtime: { device: 'cpu', threads } }),
};
const only = process.env.BENCH_ONLY;
const countsOnly = process.env.BENCH_COUNTS_ONLY === '1';
const ratios: number[] = [];
const fmtCounts = (c: StepCounts, what: 'nodes' | 'kernels'): string =>
  `${c[what].total} (step ${c[what].step}, teacher ${c[what].teacher}, EMA ${c[what].ema})`;
log(`machine: ${fmtMachine()}`);
for (const [name, c] of Object.entries(configs)) {
  if (only && only !== name) continue;
  const v = scratchViT(c);
  log(
    `\n${name}: ViT dim ${v.dim} depth ${v.depth} patch ${v.patchSize} reg ${v.registers}, B ${c.batchSize}, 2 × ${c.crops.globalSize} + ${c.crops.localCrops} × ${c.crops.localSize}, K ${c.head.prototypes}, ${threads} threads`,
  );
  const before = await stepCounts(c, { params: 'per-tensor', threads });
  const after = await stepCounts(c, { threads });
  out(`${name}: nodes per step: per tensor ${fmtCounts(before, 'nodes')}, flat buffers ${fmtCounts(after, 'nodes')}`);
  out(`${name}: kernels per step (CPU): per tensor ${fmtCounts(before, 'kernels')}, flat buffers ${fmtCounts(after, 'kernels')}`);
  if (countsOnly) continue;
  const o = median(await ours(c));
  const t = median(torch(c));
  const [io, it] = [(c.batchSize * 1000) / o, (c.batchSize * 1000) / t];
  ratios.push(io / it);
  out(
    `${name}: ours ${io.toFixed(2)} tiles/s (median step ${o.toFixed(0)} ms), pytorch ${it.toFixed(2)} tiles/s (${t.toFixed(0)} ms), ratio ${(io / it).toFixed(3)}`,
  );
}
if (countsOnly) process.exit(0);
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
out(`ratio ${geo.toFixed(3)}`);

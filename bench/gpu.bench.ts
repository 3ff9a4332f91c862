// `npm run bench -- gpu`: the GPU path, checked and timed. For each GPU execution provider asked for
// (BENCH_PROVIDERS, default webgpu,cuda) that onnxruntime can open here:
//   1. extraction: ViT-S/14 reg4 (random weights) over 280 × 280 px tiles (our default 16² kept patches + 2
//      of margin), batches of BENCH_EXTRACT_BATCH (32): patches/s, and the GPU's patch tokens against the
//      same batch on the CPU (max |Δ| relative to the tokens' RMS);
//   2. training: the whole step (teacher forward, student forward/backward/AdamW, EMA) of the Quick preset
//      and of ViT-S/16 at 224 px (the Standard preset's model) at GPU-sized batches: tiles/s, and the
//      first step's losses against the same step on the CPU;
// each against PyTorch on BENCH_TORCH_DEVICE (default cuda; bench/python/*_ref.py with BENCH_PYTHON, default
// /usr/bin/python3) doing the same work: same models, tiles, crops and losses; host → device → host per
// batch on both sides for extraction.
// Each training configuration runs in a child process, so a native abort in a provider is reported and the
// bench goes on. Environment: BENCH_PROVIDERS, BENCH_ONLY (comma list of extract, quick, small),
// BENCH_STEPS (5), BENCH_EXTRACT_BATCH (32), BENCH_TILES, BENCH_QUICK_BATCH (64), BENCH_SMALL_BATCH (32),
// BENCH_THREADS (all cores), BENCH_PYTHON, BENCH_TORCH_DEVICE, BENCH_PRECISION (auto, fp32 or mixed: the GPU
// run's runtime.precision; auto is mixed where the provider runs float16), BENCH_DEVICE_STATE (comma list of 1 = state
// kept on the device, StepRunner's default on WebGPU, and 0 = state through the host; default 1,0),
// BENCH_SWIFTSHADER=1 (WebGPU through SwiftShader, the CPU Vulkan driver of Debian's chromium, on a machine
// without a GPU: checks the GPU path and its host ↔ device traffic; its times mean nothing, so no PyTorch).
// Each training configuration prints its host ↔ device bytes per step (runtime.ts `transfers`: host tensors
// fed to and returned by the device sessions, and state read back), with the state on and off the device.
// Last line: `ratio <ours/pytorch throughput>`, the geometric mean over the measurements made, or
// `ratio n/a` when no GPU provider opens (so a CPU-only machine can run it and learn that).
//
// Measured 2026-11-28 on an NVIDIA H200 (16-core Xeon host; onnxruntime-node 1.30 WebGPU over Vulkan with the
// NVIDIA ICD; PyTorch 2.11 + CUDA 13; the CUDA provider's libraries are not in onnxruntime-node's package):
//   extract: webgpu 92,126 patches/s vs CPU 16 threads 6,119 (15×), PyTorch CUDA 267,154 → 0.345; GPU
//            tokens match the CPU's to 7e-6 of their RMS.
//   quick (B 64): webgpu 14.7 tiles/s (4.3 s/step, no faster than the 16-core CPU), PyTorch CUDA 453 → 0.033.
//   small (B 32): webgpu 3.0 tiles/s (10.7 s/step), PyTorch CUDA 165 → 0.018. First-step losses match the
//            CPU's (12.26720 vs 12.26719; 15.92673 vs 15.92527).
//   With the state kept on the device (BENCH_DEVICE_STATE=1) both training configurations aborted the
//   process (onnxruntime-node's getData of a gpu-buffer tensor; runtime.ts now reads state back through a
//   session instead, and device state is the default).
//   Last line `ratio 0.024` (training only; extraction ran in an earlier call).
//   A per-node profile of the Quick step on WebGPU then showed 78 Sum nodes (GELU and LayerNorm backward)
//   placed on the CPU, 0.4 s plus 1.5 s of host copies of a 3.3 s step (WebGPU has no Sum kernel); with
//   GraphLowering.sumAsAdds the trainer builds Add chains instead: quick (B 64) 2.76 s/step = 23.2 tiles/s
//   (1.58× faster), PyTorch CUDA 404 → 0.057, first-step loss still equal to the CPU's (12.26720 vs 12.26719).
//   What remains: per-dispatch cost of many small elementwise kernels (AdamW's Mul/Add: 0.45 s), the state
//   through the host, and the CUDA provider, whose libraries onnxruntime-node does not ship.
//
// Host ↔ device traffic, measured 2026-12-06 on this 2-core machine through SwiftShader (load 20–30):
//   quick (BENCH_SWIFTSHADER=1 BENCH_QUICK_BATCH=2 BENCH_STEPS=2), state on the device: 2.258 MB up (the
//     batch's crops), 0.724 MB down (losses, teacher targets and centers), 0 state readbacks per step;
//     first-step loss 12.17524 vs CPU 12.17525. (SwiftShader compiled for 19 min and took 4–6 min a step;
//     the state-through-the-host run did not fit the time left.)
//   tiny ViT (dim 32, depth 2, B 4; core/train/device-state-run.ts, 20 steps): on the device 0.230 MB up,
//     0.009 MB down, 0 readbacks per step; through the host 1.412 MB up, 0.797 MB down (the whole state,
//     0.788 MB, each way); the two runs' losses and final state identical bit for bit.
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TileModel } from '../core/features/extract/model.js';
import { type Provider, type Transfers, resetTransfers, transfers } from '../core/graph/runtime.js';
import { swiftShaderEnv } from '../core/graph/swiftshader.js';
import { vitConfig } from '../core/model/config.js';
import { initParams } from '../core/model/params.js';
import { type TrainConfig, scratchViT, trainConfig } from '../core/train/config.js';
import { Trainer } from '../core/train/trainer.js';
import { fmtMachine } from './lib/machine.js';
import { median, randomBatch, torchTrainSteps } from './lib/train-ref.js';
import { torchEnv } from './lib/torch-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PROVIDERS = (process.env.BENCH_PROVIDERS ?? 'webgpu,cuda').split(',') as Provider[];
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const DEVICE = process.env.BENCH_TORCH_DEVICE ?? 'cuda';
const THREADS = Number(process.env.BENCH_THREADS ?? cpus().length);
const EB = Number(process.env.BENCH_EXTRACT_BATCH ?? 32);
const TILES = Number(process.env.BENCH_TILES ?? 8 * EB);
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const CHILD = process.env.BENCH_CHILD; // set in the child process that runs one training configuration
const SWIFTSHADER = process.env.BENCH_SWIFTSHADER === '1';
const ONLY = process.env.BENCH_ONLY?.split(',') ?? (SWIFTSHADER ? ['quick'] : undefined); // of extract, quick, small
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

if (SWIFTSHADER && !process.env.BENCH_SWIFTSHADER_ENV) {
  // The Vulkan loader reads its environment when onnxruntime loads: run this bench again with SwiftShader's.
  const ss = await swiftShaderEnv();
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...ss.env, BENCH_SWIFTSHADER_ENV: '1' },
  });
  await ss.close();
  process.exit(r.status ?? 1);
}

out(`gpu bench: providers ${PROVIDERS.join(', ')}; PyTorch on ${DEVICE} (${PYTHON}); ${THREADS} CPU threads`);
out(`machine: ${fmtMachine()}`);
const ratios: number[] = [];

/** Relative difference: max |a − b| over the RMS of b. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let ss = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    ss += b[i] * b[i];
  }
  return worst / Math.sqrt(ss / b.length);
}

// ---- 1. extraction ----
async function extraction(provider: Provider, work: string): Promise<void> {
  const cfg = vitConfig('small', { arch: 'dinov2', registers: 4 });
  const S = 280;
  const kept = 16 * 16;
  const tiles = new Float32Array(TILES * 3 * S * S); // (n, 3, S, S), normalised texture
  for (let t = 0; t < TILES; t++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) tiles[((t * 3 + c) * S + y) * S + x] = Math.sin((x + 31 * t) / (5 + c) + (y * (c + 1)) / 11) * 1.5;
  const weights = initParams(cfg, 0);
  const warnings: string[] = [];
  const t0 = performance.now();
  const model = await TileModel.create(cfg, weights, {
    batch: EB,
    side: S,
    outputs: ['patches'],
    threads: THREADS,
    providers: [provider],
    warn: (m) => warnings.push(m),
  });
  if (model.provider !== provider) {
    out(`extract on ${provider}: fell back (${warnings.join('; ')})`);
    await model.release();
    return;
  }
  const batch = (i: number): Float32Array => tiles.slice(i * 3 * S * S, (i + EB) * 3 * S * S);
  const first = (await model.run(batch(0))).patches; // warm-up (shader compilation)
  out(`extract on ${provider}: session + first batch ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  for (let i = 0; i + EB <= TILES; i += EB) await model.run(batch(i));
  const sec = (performance.now() - t1) / 1000;
  await model.release();
  const rate = (Math.floor(TILES / EB) * EB * kept) / sec;
  const cpu = await TileModel.create(cfg, weights, { batch: EB, side: S, outputs: ['patches'], threads: THREADS });
  const c0 = performance.now();
  const ref = (await cpu.run(batch(0))).patches;
  const cpuSec = (performance.now() - c0) / 1000;
  await cpu.release();
  const diff = relDiff(first, ref);
  out(
    `extract on ${provider}: ${rate.toFixed(0)} patches/s (${TILES} tiles, batch ${EB}); CPU (${THREADS} threads) one batch ${cpuSec.toFixed(2)} s = ${((EB * kept) / cpuSec).toFixed(0)} patches/s; max |gpu − cpu| / rms ${diff.toExponential(2)}`,
  );

  const tilesPath = join(work, 'tiles.f32');
  await writeFile(tilesPath, new Uint8Array(tiles.buffer, 0, Math.floor(TILES / EB) * EB * 3 * S * S * 4));
  const py = spawnSync(PYTHON, [join(root, 'bench/python/extract_ref.py'), tilesPath, String(S), String(EB), String(THREADS)], {
    encoding: 'utf8',
    env: torchEnv({ TORCH_DEVICE: DEVICE }),
  });
  if (py.status !== 0) {
    out(`extract: PyTorch reference failed: ${py.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return;
  }
  const r = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; tiles: number; torch: string; device: string };
  const torchRate = (r.tiles * kept) / r.seconds;
  ratios.push(rate / torchRate);
  out(
    `extract: PyTorch ${r.torch} on ${r.device} ${torchRate.toFixed(0)} patches/s; ours on ${provider} / PyTorch ${(rate / torchRate).toFixed(3)}`,
  );
}

// ---- 2. training ----
async function training(provider: Provider, name: string, c: TrainConfig): Promise<void> {
  const v = scratchViT(c);
  out(
    `train ${name} on ${provider} (state ${process.env.BENCH_DEVICE_STATE === '1' ? 'on the device' : 'through the host'}): ViT dim ${v.dim} depth ${v.depth} patch ${v.patchSize} reg ${v.registers}, B ${c.batchSize}, 2 × ${c.crops.globalSize} + ${c.crops.localCrops} × ${c.crops.localSize}, K ${c.head.prototypes}`,
  );
  const warnings: string[] = [];
  // BENCH_PRECISION (auto | fp32 | mixed; default auto: mixed where the provider runs float16, core/train/precision.ts).
  const precision = (process.env.BENCH_PRECISION ?? 'auto') as TrainConfig['runtime']['precision'];
  const gpuConfig: TrainConfig = { ...c, runtime: { ...c.runtime, device: provider as 'webgpu' | 'cuda', precision } };
  let s = 0;
  const t0 = performance.now();
  const deviceState = process.env.BENCH_DEVICE_STATE !== '0'; // StepRunner's default on WebGPU: on the device
  const tr = await Trainer.create(
    gpuConfig,
    { next: async () => randomBatch(c, s++) },
    { runtime: { warn: (m) => warnings.push(m), deviceState } },
  );
  out(`  precision ${precision} → ${tr.precision}`);
  if (warnings.some((w) => /fallback/.test(w))) {
    await tr.close();
    out(`train ${name} on ${provider}: some graphs fell back to the CPU (${warnings.join('; ')}); not timed`);
    return;
  }
  const ms: number[] = [];
  const traffic: Transfers[] = [];
  let firstLoss = NaN;
  try {
    for (let i = 0; i < 1 + STEPS; i++) {
      resetTransfers();
      const t = performance.now();
      const r = await tr.step();
      const dt = performance.now() - t;
      if (i >= 1) traffic.push(transfers());
      if (i === 0) {
        firstLoss = r.losses.total;
        out(
          `train ${name} on ${provider}: compile + first step ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${r.losses.total.toFixed(5)}${warnings.length ? `; warnings: ${warnings.join('; ')}` : ''}`,
        );
      } else ms.push(dt);
      log(`ours ${provider} step ${i} ${dt.toFixed(0)} ms loss ${r.losses.total.toFixed(5)}`);
    }
  } finally {
    await tr.close();
  }
  const mb = (f: (t: Transfers) => number): string => (median(traffic.map(f)) / 1e6).toFixed(3);
  out(
    `train ${name} on ${provider} (state ${deviceState ? 'on the device' : 'through the host'}): host ↔ device per step ${mb((t) => t.uploadBytes)} MB up, ${mb((t) => t.downloadBytes)} MB down, ${median(traffic.map((t) => t.readbacks))} state readbacks (median of ${traffic.length} steps after the first)`,
  );
  // The same first step on the CPU: the losses agree when the GPU computes the same step.
  let sc = 0;
  const cpuTr = await Trainer.create(
    { ...c, runtime: { ...c.runtime, device: 'cpu', threads: THREADS } },
    { next: async () => randomBatch(c, sc++) },
  );
  const c0 = performance.now();
  const cpuLoss = (await cpuTr.step()).losses.total;
  const cpuMs = performance.now() - c0;
  await cpuTr.close();
  const o = median(ms);
  const rate = (c.batchSize * 1000) / o;
  out(
    `train ${name} on ${provider}: ${rate.toFixed(1)} tiles/s (median step ${o.toFixed(0)} ms of ${STEPS}); first-step loss GPU ${firstLoss.toFixed(5)} vs CPU ${cpuLoss.toFixed(5)} (CPU step incl. compile ${(cpuMs / 1000).toFixed(1)} s)`,
  );
  if (SWIFTSHADER) return; // its times mean nothing: no PyTorch reference
  try {
    const t = median(torchTrainSteps(c, { threads: THREADS, steps: STEPS, python: PYTHON, device: DEVICE, root }));
    const torchRate = (c.batchSize * 1000) / t;
    ratios.push(rate / torchRate);
    if (CHILD) out(`RATIO ${rate / torchRate}`);
    out(
      `train ${name}: PyTorch on ${DEVICE} ${torchRate.toFixed(1)} tiles/s (median step ${t.toFixed(0)} ms); ours on ${provider} / PyTorch ${(rate / torchRate).toFixed(3)}`,
    );
  } catch (e) {
    out(`train ${name}: PyTorch reference failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const configs: Record<string, TrainConfig> = {
  quick: trainConfig('quick', { batchSize: Number(process.env.BENCH_QUICK_BATCH ?? 64) }),
  small: trainConfig('standard', { batchSize: Number(process.env.BENCH_SMALL_BATCH ?? 32) }),
};

/** Whether onnxruntime opens `provider` here: a one-block ViT on it, without falling back. */
async function opens(provider: Provider): Promise<boolean> {
  const warnings: string[] = [];
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 32, depth: 1, heads: 1, registers: 0 });
  const m = await TileModel.create(cfg, initParams(cfg, 0), {
    batch: 1,
    side: 28,
    outputs: ['patches'],
    providers: [provider],
    warn: (w) => warnings.push(w),
  });
  const ok = m.provider === provider;
  await m.release();
  out(`${provider}: ${ok ? 'opens' : `not available (${warnings.join('; ')})`}`);
  return ok;
}

const work = await mkdtemp(join(tmpdir(), 'dinoscope-bench-gpu-'));
try {
  for (const p of PROVIDERS) {
    if (!(await opens(p))) continue;
    const step = async (what: string, f: () => Promise<void>): Promise<void> => {
      if (ONLY && !ONLY.includes(what)) return;
      try {
        await f();
      } catch (e) {
        out(`${what} on ${p}: failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    };
    if (!CHILD) await step('extract', () => extraction(p, work));
    for (const [name, c] of Object.entries(configs)) {
      if (CHILD) {
        if (CHILD === name) await step(name, () => training(p, name, c));
        continue;
      }
      if (ONLY && !ONLY.includes(name)) continue;
      // Each training configuration in a child process: a native abort in a provider is reported, not fatal.
      for (const state of (process.env.BENCH_DEVICE_STATE ?? '1,0').split(',')) {
        const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          encoding: 'utf8',
          env: { ...process.env, BENCH_CHILD: name, BENCH_PROVIDERS: p, BENCH_DEVICE_STATE: state },
        });
        const lines = r.stdout.split('\n').filter((l) => l && !/^(gpu bench:|machine:|\w+: opens)/.test(l)); // the child's own header
        for (const l of lines)
          if (l.startsWith('RATIO ')) ratios.push(Number(l.slice(6)));
          else out(l);
        if (r.status !== 0)
          out(`train ${name} on ${p} (BENCH_DEVICE_STATE=${state}): the child process ended with ${r.signal ?? `status ${r.status}`}`);
      }
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
if (!CHILD)
  out(
    ratios.length
      ? `ratio ${Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length).toFixed(3)}`
      : 'ratio n/a (no GPU provider opened here)',
  );

// Mixed-precision training (core/graph/amp.ts) on a tiny ViT: float16 products with float32 master weights
// and dynamic loss scaling. The GPUs it is for are not here, and SwiftShader's WebGPU adapter has no
// shader-f16 (onnxruntime refuses its float16 kernels: "requires f16 but the device does not support it"),
// so the mixed step graph runs on onnxruntime's CPU, which has float16 MatMul, Gemm, Transpose and Cast
// kernels: the same graph, the oracle of what it computes. Asserts: a few mixed steps follow the fp32 ones;
// a step whose gradients overflow changes no parameter, moment or step count and halves the scale; the
// scale doubles after `interval` finite steps; a skipped step is no NaN alarm; a checkpoint resumes in the
// other precision (a run started on the CPU continued on a GPU, or back), the loss-scale state started or dropped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../model/weights/safetensors.js';
import { type TrainBatch } from '../data/train/batch.js';
import { type LossScaleOptions } from '../graph/amp.js';
import { type HostTensor } from '../graph/tensor.js';
import { type Overrides, trainConfig } from './config.js';
import { type Precision } from './precision.js';
import { stepInfo } from './host/host.js';
import { MAX_SKIPS_IN_ROW, SkippedSteps } from './skipped-steps.js';
import { type StepReport, Trainer } from './trainer.js';
import { synthBatch as synth } from './fixtures/synth-batch.js';

const B = 4;
const TINY: Overrides = {
  seed: 7,
  steps: 20,
  batchSize: B,
  model: {
    size: 'tiny',
    vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 2, heads: 2, posEmbed: { gridSize: 4 } },
    from: null,
  },
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { prototypes: 64, hidden: 64, bottleneck: 16 },
  optim: { baseLr: 0.01, warmupFraction: 0, freezeLastLayerFraction: 0.1 },
  teacher: { tempWarmupFraction: 0.5 },
  health: { every: 0 },
  runtime: { threads: 1, device: 'cpu' },
};

const synthBatch = (step: number): TrainBatch => synth(step, { batch: B, global: 32, local: 16 }, 3);

async function trainer(precision: Precision, lossScale?: LossScaleOptions): Promise<Trainer> {
  let s = 0;
  return Trainer.create(
    trainConfig('quick', TINY),
    { next: async () => synthBatch(s++) },
    { runtime: { providers: ['cpu'] }, precision, ...(lossScale ? { lossScale } : {}) },
  );
}

async function run(t: Trainer, steps: number): Promise<StepReport[]> {
  const out: StepReport[] = [];
  for (let i = 0; i < steps; i++) out.push(await t.step());
  return out;
}

const values = (m: ReadonlyMap<string, HostTensor>): Record<string, number[]> =>
  Object.fromEntries([...m].map(([k, t]) => [k, Array.from(t.data as Float32Array)]));

describe('mixed precision (float16 products, float32 master weights, dynamic loss scaling)', () => {
  it('five mixed steps follow the fp32 steps: losses within 5e-3 relative (measured ≤ 9.2e-4), no step skipped, the scale doubling every 2 finite steps', async () => {
    const STEPS = 5;
    const fp32 = await trainer('fp32');
    const mixed = await trainer('mixed', { init: 64, growth: 2, backoff: 0.5, interval: 2 });
    try {
      expect([fp32.precision, mixed.precision]).toEqual(['fp32', 'mixed']);
      const a = await run(fp32, STEPS);
      const b = await run(mixed, STEPS);
      expect(a.every((r) => r.amp === undefined)).toBe(true);
      expect('amp' in stepInfo('run', 'job', a[0], STEPS, NaN)).toBe(false);
      expect(b.map((r) => r.amp)).toEqual([
        { skipped: false, lossScale: 64 },
        { skipped: false, lossScale: 128 },
        { skipped: false, lossScale: 128 },
        { skipped: false, lossScale: 256 },
        { skipped: false, lossScale: 256 },
      ]);
      const rel = b.map((r, i) => Math.abs(r.losses.total - a[i].losses.total) / Math.abs(a[i].losses.total));
      process.stderr.write(`mixed vs fp32 total loss, relative difference per step: ${rel.map((x) => x.toExponential(1)).join(' ')}\n`);
      for (const [i, x] of rel.entries()) expect(x, `step ${i + 1}`).toBeLessThan(5e-3);
      // The first step's forward differs only by float16 rounding of the products.
      expect(rel[0]).toBeLessThan(1e-4);
      expect(b.every((r) => !r.signals.nan)).toBe(true);
    } finally {
      await Promise.all([fp32.close(), mixed.close()]);
    }
  });

  it('a step whose scaled gradients overflow float16 is skipped: parameters, moments and step count unchanged, the scale halved', async () => {
    const huge = 2 ** 100; // any gradient × 2¹⁰⁰ is far past float16's 65504
    const t = await trainer('mixed', { init: huge, growth: 2, backoff: 0.5, interval: 2000 });
    try {
      const before = await t.state();
      const [r] = await run(t, 1);
      const after = await t.state();
      expect(r.amp).toEqual({ skipped: true, lossScale: huge / 2 });
      expect(Number.isFinite(r.losses.total)).toBe(true);
      expect(r.signals.nan).toBe(false); // the skip is handled, not an alarm that pauses the run
      expect(values(after.student)).toEqual(values(before.student));
      const opt = values(after.optimizer);
      const opt0 = values(before.optimizer);
      expect(opt['optim/step']).toEqual([0]);
      expect(opt['amp/loss_scale']).toEqual([huge / 2]);
      expect(opt['amp/good_steps']).toEqual([0]);
      for (const k of Object.keys(opt0).filter((k) => !k.startsWith('amp/'))) expect(opt[k], k).toEqual(opt0[k]);
      // The trainer's step counter still advances (the data and schedules move on, as with GradScaler).
      expect(t.completedSteps).toBe(1);
      // progress.jsonl keeps the report as is; the run's log says what happened (core/train/run.ts).
      const recorded = JSON.parse(JSON.stringify(r)) as StepReport;
      expect(recorded.amp).toEqual({ skipped: true, lossScale: huge / 2 });
      // …and the panel's step events and history (trainingHistory reads progress.jsonl through stepInfo).
      expect(stepInfo('run', 'job', recorded, 20, NaN).amp).toEqual({ skipped: true, lossScale: huge / 2 });
      const skips = new SkippedSteps();
      expect(skips.record(r, 'pretrain')).toEqual({
        line: `pretrain: step 1 skipped: gradients overflowed in fp16; loss scale now ${huge / 2}`,
        diverged: null,
      });
      // A run that skips every step has diverged: after MAX_SKIPS_IN_ROW in a row it stops (as on a NaN loss).
      for (let i = 2; i < MAX_SKIPS_IN_ROW; i++) expect(skips.record(r, 'pretrain').diverged).toBeNull();
      expect(skips.record(r, 'pretrain').diverged).toMatch(
        /^gradients were not finite at 30 steps in a row up to step 1 .*: the run diverged\.$/,
      );
      const [again] = await run(t, 1); // 2⁹⁹ overflows too: skipped, halved again
      expect(again.amp).toEqual({ skipped: true, lossScale: huge / 4 });
    } finally {
      await t.close();
    }
  });

  it('a checkpoint resumes in the other precision: fp32 → mixed starts the loss scale at 2¹⁶, mixed → fp32 drops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-amp-resume-'));
    const from = (step: number): { next: () => Promise<TrainBatch> } => {
      let s = step;
      return { next: async () => synthBatch(s++) };
    };
    try {
      const fp32 = await trainer('fp32');
      await run(fp32, 2);
      await fp32.checkpoint(join(dir, 'fp32'));
      await fp32.close();
      const names = async (ck: string): Promise<string[]> =>
        [...(await readSafetensors(join(dir, ck, 'optimizer.safetensors'))).tensors.keys()].filter((k) => k.startsWith('amp/'));
      expect(await names('fp32')).toEqual([]);

      const mixed = await Trainer.resume(join(dir, 'fp32'), from(2), { runtime: { providers: ['cpu'] }, precision: 'mixed' });
      const [r] = await run(mixed, 1);
      expect(r.step).toBe(3);
      expect(r.amp?.lossScale).toBe(r.amp?.skipped ? 2 ** 15 : 2 ** 16);
      expect(Number.isFinite(r.losses.total)).toBe(true);
      await mixed.checkpoint(join(dir, 'mixed'));
      await mixed.close();
      expect((await names('mixed')).sort()).toEqual(['amp/good_steps', 'amp/loss_scale']);

      const back = await Trainer.resume(join(dir, 'mixed'), from(3), { runtime: { providers: ['cpu'] }, precision: 'fp32' });
      const [b] = await run(back, 1);
      expect([b.step, b.amp]).toEqual([4, undefined]);
      expect(Number.isFinite(b.losses.total)).toBe(true);
      await back.checkpoint(join(dir, 'back'));
      await back.close();
      expect(await names('back')).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

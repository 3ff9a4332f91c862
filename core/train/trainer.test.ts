// The whole training step on a tiny ViT: it runs, lowers the loss on a fixed batch, and a run resumed from
// a checkpoint continues exactly like the uninterrupted one.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainBatch } from '../data/train/batch.js';
import { readSafetensors, writeSafetensors } from '../model/weights/safetensors.js';
import { loadWeights } from '../model/weights/import.js';
import { type Overrides, trainConfig } from './config.js';
import { type BatchSource, type StepReport, Trainer } from './trainer.js';
import { synthBatch as synth } from './fixtures/synth-batch.js';

const B = 4;
const tiny: Overrides = {
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
  optim: { baseLr: 0.08, warmupFraction: 0, freezeLastLayerFraction: 0.1 },
  teacher: { tempWarmupFraction: 0.5 },
  runtime: { threads: 1 },
};

const synthBatch = (step: number, seed = 3): TrainBatch => synth(step, { batch: B, global: 32, local: 16 }, seed);

function source(start: number, fixed = false): BatchSource {
  let s = start;
  const first = synthBatch(0);
  return { next: async () => (fixed ? { ...first, step: s++ } : synthBatch(s++)) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-train-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Trainer', () => {
  it('one compiled step runs; ~20 steps on a fixed batch lower the loss; schedule values are reported', async () => {
    // A frozen teacher (momentum 1, centers fixed, constant τ_t) makes the targets fixed, so the student's
    // objective is a fixed function and the step must lower it. (With the EMA teacher and centering on a
    // fixed batch the centering flattens the targets and the CE rises with their entropy — expected.)
    const tr = await Trainer.create(
      trainConfig('quick', { ...tiny, teacher: { tempStart: 0.07, temp: 0.07, momentum: 1, momentumHorizon: 0, centerMomentum: 1 } }),
      source(0, true),
    );
    const totals: number[] = [];
    let last: StepReport | undefined;
    for (let i = 0; i < 20; i++) {
      last = await tr.step();
      totals.push(last.losses.total);
      if (process.env.DEBUG_TRAIN)
        process.stderr.write(
          `${JSON.stringify(last.losses)} ${JSON.stringify(last.gradNorms)} H=${last.signals.teacherEntropy} rank=${last.signals.featureRank}\n`,
        );
      expect(last.signals.nan).toBe(false);
    }
    await tr.close();
    expect(last!.step).toBe(20);
    expect(last!.teacherTemp).toBe(0.07);
    expect(last!.momentum).toBe(1);
    expect(last!.signals.featureRank).toBeGreaterThan(1);
    expect(last!.signals.teacherEntropy).toBeGreaterThan(0);
    const head = (totals[0] + totals[1]) / 2;
    const tail = (totals[18] + totals[19]) / 2;
    process.stderr.write(`fixed-batch total loss: first ${totals[0].toFixed(4)} → last ${totals[19].toFixed(4)}\n`);
    expect(tail).toBeLessThan(0.5 * head);
  }, 60_000);

  it('resume is exact: 4 steps straight = 2 steps, checkpoint, load, 2 steps (1e-6); the checkpoint imports as a model', async () => {
    const cfg = trainConfig('quick', { ...tiny, steps: 8 });
    const a = await Trainer.create(cfg, source(0));
    const straight: StepReport[] = [];
    for (let i = 0; i < 4; i++) straight.push(await a.step());
    const ref = await a.state();
    await a.close();

    const b = await Trainer.create(cfg, source(0));
    await b.step();
    await b.step();
    const ck = join(dir, 'ckpt');
    await b.checkpoint(ck);
    await b.checkpoint(ck); // replacing an existing checkpoint is atomic too
    await b.close();
    expect((await readdir(dir)).filter((f) => f !== 'ckpt')).toEqual([]); // no temp folders left behind
    const c = await Trainer.resume(ck, source(2));
    expect(c.completedSteps).toBe(2);
    const resumed = [await c.step(), await c.step()];
    const got = await c.state();
    await c.close();

    resumed.forEach((r, i) => {
      expect(r.step).toBe(straight[i + 2].step);
      for (const k of ['dino', 'ibot', 'koleo', 'total'] as const)
        expect(Math.abs(r.losses[k] - straight[i + 2].losses[k])).toBeLessThan(1e-6);
    });
    let worst = 0;
    for (const part of ['student', 'teacher', 'optimizer'] as const) {
      for (const [k, t] of ref[part]) {
        const u = got[part].get(k);
        expect(u, `${part} ${k}`).toBeDefined();
        const x = t.data as Float32Array;
        const y = u!.data as Float32Array;
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
    for (const k of ['dino', 'ibot'] as const)
      Array.from(ref.centers![k].data as Float32Array).forEach((x, i) =>
        expect(Math.abs(x - (got.centers![k].data as Float32Array)[i])).toBeLessThanOrEqual(1e-6),
      );

    // The checkpoint's teacher backbone is importable as a model (core/model/weights strips 'teacher.backbone.').
    const st = await readSafetensors(join(ck, 'model.safetensors'));
    expect(st.tensors.has('teacher.backbone.blocks.0.attn.qkv.weight')).toBe(true);
    expect(st.tensors.has('student.dino_head.last_layer.weight_g')).toBe(true);
    const w = await loadWeights(join(ck, 'model.safetensors')); // reads the checkpoint's config.json
    expect([w.config.depth, w.config.heads, w.config.dim, w.config.registers]).toEqual([2, 2, 32, 2]);
    // The optimiser state is stored per parameter tensor, as before the step graph kept it in flat buffers:
    // checkpoints of either version resume in the other.
    const opt = await readSafetensors(join(ck, 'optimizer.safetensors'));
    const params = [...ref.student.keys()];
    expect([...opt.tensors.keys()].sort()).toEqual(['optim/step', ...params.flatMap((p) => [`adam_m/${p}`, `adam_v/${p}`])].sort());
    for (const p of params) expect(opt.tensors.get(`adam_m/${p}`)!.shape, p).toEqual(ref.student.get(p)!.dims);
  }, 90_000);

  it('a checkpoint whose optimizer state lacks a tensor is refused naming it, not resumed with zeros', async () => {
    // The step graph packs the per-tensor moments of a checkpoint into its flat buffers; a missing one is an error.
    const ck = join(dir, 'ckpt');
    const broken = join(dir, 'ckpt-broken');
    await cp(ck, broken, { recursive: true });
    const opt = await readSafetensors(join(ck, 'optimizer.safetensors'));
    opt.tensors.delete('adam_v/blocks.0.attn.qkv.weight');
    await writeSafetensors(join(broken, 'optimizer.safetensors'), opt.tensors);
    await expect(Trainer.resume(broken, source(2))).rejects.toThrow(/second moments\): no value for blocks\.0\.attn\.qkv\.weight/);
  }, 60_000);

  it('continued pretraining starts from imported weights (student and teacher = the weights)', async () => {
    const ck = join(dir, 'ckpt');
    const w = await loadWeights(join(ck, 'model.safetensors'));
    const tr = await Trainer.create(trainConfig('quick', { ...tiny, model: { from: join(ck, 'model.safetensors') } }), source(0));
    const s = await tr.state();
    const want = w.tensors.get('blocks.1.mlp.fc1.bias')!.data;
    expect(Array.from(s.teacher.get('blocks.1.mlp.fc1.bias')!.data as Float32Array)).toEqual(Array.from(want));
    expect(Array.from(s.student.get('blocks.1.mlp.fc1.bias')!.data as Float32Array)).toEqual(Array.from(want));
    const r = await tr.step();
    expect(r.signals.nan).toBe(false);
    await tr.close();
  }, 60_000);
});

describe('Trainer, DINOv3 style', () => {
  it('dinov3 backbone (RoPE with training augmentation, storage tokens), plain last layer, Sinkhorn-Knopp targets: steps run without NaN', async () => {
    const cfg = trainConfig('quick', {
      ...tiny,
      model: { size: 'tiny', vit: { arch: 'dinov3', patchSize: 8, registers: 2, dim: 32, depth: 2, heads: 2 }, from: null },
    });
    const tr = await Trainer.create(cfg, source(0));
    expect(tr.head.lastLayer).toBe('plain');
    const s = await tr.state();
    expect(s.centers).toBeNull(); // Sinkhorn-Knopp: no centers
    for (let i = 0; i < 3; i++) {
      const r = await tr.step();
      expect(r.signals.nan).toBe(false);
      expect(r.losses.total).toBeGreaterThan(0);
    }
    await tr.close();
  }, 60_000);
});

// Training on a C-channel panel: a tiny from-scratch 5-channel ViT steps, checkpoints and resumes exactly
// (4 steps straight = 2 + checkpoint + 2), its checkpoint imports as a 5-channel model; continued pretraining
// from an RGB model with model.channels 5 inflates its patch embedding (core/model/inflate.ts) and steps.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWeights } from '../model/weights/import.js';
import { type Overrides, trainConfig } from './config.js';
import { synthBatch } from './fixtures/synth-batch.js';
import { type BatchSource, type StepReport, Trainer } from './trainer.js';

const B = 2;
const C = 5;
const tiny: Overrides = {
  seed: 5,
  steps: 8,
  batchSize: B,
  model: {
    size: 'tiny',
    vit: { arch: 'dinov2', patchSize: 8, registers: 1, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } },
    from: null,
    channels: C,
  },
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { prototypes: 32, hidden: 32, bottleneck: 16 },
  runtime: { threads: 1 },
};

const source = (start: number, channels: number | null = C): BatchSource => {
  let s = start;
  return { next: async () => synthBatch(s++, { batch: B, global: 32, local: 16, ...(channels !== null ? { channels } : {}) }) };
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-channels-train-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training on a 5-channel panel', () => {
  it('from scratch: steps, checkpoints and resumes exactly; the checkpoint is a 5-channel model', async () => {
    const cfg = trainConfig('quick', tiny);
    const a = await Trainer.create(cfg, source(0));
    expect(a.vit.inChans).toBe(C);
    const straight: StepReport[] = [];
    for (let i = 0; i < 4; i++) straight.push(await a.step());
    await a.close();
    for (const r of straight) expect(r.signals.nan).toBe(false);

    const b = await Trainer.create(cfg, source(0));
    await b.step();
    await b.step();
    const ck = join(dir, 'ckpt');
    await b.checkpoint(ck);
    await b.close();
    const c = await Trainer.resume(ck, source(2));
    expect(c.vit.inChans).toBe(C);
    const resumed = [await c.step(), await c.step()];
    await c.close();
    resumed.forEach((r, i) => {
      for (const k of ['dino', 'ibot', 'koleo', 'total'] as const) expect(Math.abs(r.losses[k] - straight[i + 2].losses[k])).toBeLessThan(1e-6);
    });
    const w = await loadWeights(join(ck, 'model.safetensors'));
    expect(w.config.inChans).toBe(C);
    expect(w.tensors.get('patch_embed.proj.weight')!.shape).toEqual([32, C, 8, 8]);
  }, 90_000);

  it('refuses an RGB batch for a 5-channel model, saying so', async () => {
    const tr = await Trainer.create(trainConfig('quick', tiny), source(0, null));
    await expect(tr.step()).rejects.toThrow(/3 channels per crop, the model takes 5/);
    await tr.close();
  }, 60_000);

  it('continued pretraining from an RGB model with model.channels 5: the patch embedding is inflated, steps run', async () => {
    const rgb = trainConfig('quick', { ...tiny, model: { ...tiny.model, channels: null } });
    const a = await Trainer.create(rgb, source(0, null));
    await a.step();
    const ck = join(dir, 'rgb');
    await a.checkpoint(ck);
    await a.close();
    const from = join(ck, 'model.safetensors');
    const w = await loadWeights(from);
    expect(w.config.inChans).toBe(3);
    const tr = await Trainer.create(trainConfig('quick', { ...tiny, model: { from, channels: C } }), source(0));
    expect(tr.vit.inChans).toBe(C);
    const s = await tr.state();
    // Graph layout (C·p·p, D): every channel's kernel rows equal (the mean of the RGB filters, scaled).
    const k = s.student.get('patch_embed.proj.weight')!;
    expect(k.dims).toEqual([C * 64, 32]);
    const d = k.data as Float32Array;
    for (let c = 1; c < C; c++) for (let i = 0; i < 64 * 32; i++) expect(d[c * 64 * 32 + i]).toBe(d[i]);
    expect(Array.from(s.student.get('blocks.0.mlp.fc1.bias')!.data as Float32Array)).toEqual(Array.from(w.tensors.get('blocks.0.mlp.fc1.bias')!.data));
    const r = await tr.step();
    expect(r.signals.nan).toBe(false);
    await tr.close();
  }, 90_000);
});

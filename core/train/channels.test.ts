// Training on a C-channel panel: a tiny from-scratch 5-channel ViT steps, checkpoints and resumes exactly
// (4 steps straight = 2 + checkpoint + 2), its checkpoint imports as a 5-channel model; continued pretraining
// from an RGB model with model.channels 5 inflates its patch embedding (core/model/inflate.ts) and steps;
// on the 5-channel OME-TIFF fixture the crop workers make 5-channel batches, and a run there checkpoints and
// resumes; an RGB image in a 5-channel run is refused naming it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChannelFixtures } from '../data/fixtures/write-channel-fixtures.js';
import { produceBatch } from '../data/train/batch.js';
import { TileSampler, buildSamplingPlan } from '../data/train/sampler.js';
import { loadWeights } from '../model/weights/import.js';
import { type Overrides, trainConfig } from './config.js';
import { cropsConfig, fileBatches } from './data.js';
import { openImage } from '../data/readers/registry.js';
import { Project } from '../project/project.js';
import { runPretrain } from './run.js';
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
      for (const k of ['dino', 'ibot', 'koleo', 'total'] as const)
        expect(Math.abs(r.losses[k] - straight[i + 2].losses[k])).toBeLessThan(1e-6);
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
    expect(Array.from(s.student.get('blocks.0.mlp.fc1.bias')!.data as Float32Array)).toEqual(
      Array.from(w.tensors.get('blocks.0.mlp.fc1.bias')!.data),
    );
    const r = await tr.step();
    expect(r.signals.nan).toBe(false);
    await tr.close();
  }, 90_000);
});

describe('training on the 5-channel fixture through the crop workers', () => {
  it('a from-scratch 5-channel run on the OME-TIFF steps, checkpoints and resumes', async () => {
    const fx = await writeChannelFixtures(join(dir, 'fixture'), { width: 256, height: 256 });
    const cfg = trainConfig('quick', { ...tiny, data: { level: 0 } });
    // The sampler's tiles carry the panel scaled per channel to [0, 1]; the crops are 5-channel.
    const plan = await buildSamplingPlan([{ id: 'f', path: fx.omeTiff }], { tileSize: 48, channels: C });
    expect(plan.images[0].windows).toHaveLength(C);
    const sampler = new TileSampler(plan);
    const batch = await produceBatch(sampler, { seed: 1, batchSize: B, patchSize: 8, crops: cropsConfig(cfg), channels: C }, 0);
    await sampler.close();
    expect(batch.crops.global.length).toBe(2 * B * C * 32 * 32);
    expect(batch.crops.channels).toBe(C);
    const a = await Trainer.create(cfg, await fileBatches(cfg, 8, [fx.omeTiff]));
    await a.step();
    await a.step();
    const ck = join(dir, 'fixture-ckpt');
    await a.checkpoint(ck);
    await a.close();
    const b = await Trainer.resume(ck, await fileBatches(cfg, 8, [fx.omeTiff], 2));
    expect(b.completedSteps).toBe(2);
    const r = await b.step();
    expect(r.step).toBe(3);
    expect(r.signals.nan).toBe(false);
    await b.close();
  }, 120_000);

  it('refuses an RGB image in a 5-channel run, naming it', async () => {
    const png = join(dir, 'rgb.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 100, b: 150 } } })
      .png()
      .toFile(png);
    await expect(buildSamplingPlan([{ id: 'r', path: png }], { tileSize: 48, channels: C })).rejects.toThrow(
      /rgb\.png has no separate channels \(an RGB image\), but the run trains on 5-channel images/,
    );
  });
});

describe('a project of one fluorescence panel', () => {
  it('trains on its channels without being told (model.channels from the images), and says so', async () => {
    const fx = await writeChannelFixtures(join(dir, 'panel-fixture'), { width: 256, height: 256 });
    const reader = await openImage(fx.omeTiff);
    const meta = reader.meta;
    await reader.close();
    const project = await Project.create(join(dir, 'panel-project'));
    await project.update((p) =>
      p.upsert({
        id: 'a',
        path: fx.omeTiff,
        name: 'channels.ome.tif',
        status: 'ok',
        bytes: 1,
        mtime: 0,
        addedAt: new Date(0).toISOString(),
        meta,
      }),
    );
    const lines: string[] = [];
    const { channels: _unset, ...model } = tiny.model!;
    const summary = await runPretrain(project, { name: 'panel', overrides: { ...tiny, model }, steps: 1, log: (l) => lines.push(l) });
    expect(summary.steps).toBe(1);
    expect(lines.join('\n')).toContain(
      'data: the images are a 5-channel panel (DAPI, AF488, AF555, AF647, AF750): training on their channels (model.channels 5).',
    );
    const w = await loadWeights(join(summary.lastCheckpoint!.dir, 'model.safetensors'));
    expect(w.config.inChans).toBe(C);
  }, 120_000);
});

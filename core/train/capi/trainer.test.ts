// A short CAPI run on a tiny ViT: it runs (finite losses, targets from the clustering head), trains (the
// CAPI loss falls on a fixed batch), checkpoints, and a run resumed from its checkpoint continues exactly
// like the uninterrupted one (dense-feature health included); the checkpoint's teacher imports as a model.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainBatch } from '../../data/train/batch.js';
import { loadWeights } from '../../model/weights/import.js';
import { type Overrides, trainConfig } from '../config.js';
import { type BatchSource } from '../trainer.js';
import { synthBatch as synth } from '../fixtures/synth-batch.js';
import { textureProject } from '../fixtures/texture-project.js';
import { type CapiStepReport, CapiTrainer } from './trainer.js';

const B = 2;
const K = 32;
const tiny: Overrides = {
  seed: 7,
  steps: 30,
  batchSize: B,
  model: {
    size: 'tiny',
    vit: { arch: 'dinov2', patchSize: 8, registers: 4, dim: 32, depth: 2, heads: 2, posEmbed: { gridSize: 6 } },
    from: null,
  },
  crops: { globalSize: 48, localSize: 16, localCrops: 0 },
  capi: { prototypes: K, predictorDepth: 1, predictFraction: 0.2 },
  runtime: { threads: 1 },
};
const batch = (step: number): TrainBatch => synth(step, { batch: B, global: 48, local: 16 });
function source(start: number, fixed = false): BatchSource {
  let s = start;
  const first = batch(0);
  return { next: async () => (fixed ? { ...first, step: s++ } : batch(s++)) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-capi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CapiTrainer', () => {
  it('steps with finite losses and sharp-enough targets; the CAPI loss falls on a fixed batch', async () => {
    const tr = await CapiTrainer.create(trainConfig('capi', { ...tiny, optim: { baseLr: 0.003, warmupFraction: 0.1 } }), source(0, true));
    const reports: CapiStepReport[] = [];
    try {
      for (let i = 0; i < 30; i++) reports.push(await tr.step());
    } finally {
      await tr.close();
    }
    for (const r of reports) {
      expect(Number.isFinite(r.losses.capi) && Number.isFinite(r.losses.clustering)).toBe(true);
      expect(r.targetEntropy).toBeGreaterThanOrEqual(0);
      expect(r.targetEntropy).toBeLessThanOrEqual(Math.log(K) + 1e-4);
    }
    expect(reports[29].step).toBe(30);
    expect(reports[0].schedule.lr).toBe(0); // warm-up from 0
    expect(reports[0].schedule.momentum).toBe(1); // momentum warm-up from 1
    const mean = (a: CapiStepReport[]): number => a.reduce((s, r) => s + r.losses.capi, 0) / a.length;
    const first = mean(reports.slice(0, 5));
    const last = mean(reports.slice(-5));
    console.log(
      `CAPI loss ${first.toFixed(3)} → ${last.toFixed(3)}; clustering ${reports[0].losses.clustering.toFixed(3)} → ${reports[29].losses.clustering.toFixed(3)}; target entropy ${reports[0].targetEntropy.toFixed(3)} → ${reports[29].targetEntropy.toFixed(3)} (ln K ${Math.log(K).toFixed(3)})`,
    );
    expect(last).toBeLessThan(first);
  }, 120_000);

  it('4 straight steps = 2 + checkpoint + resume + 2; the checkpoint teacher imports as a model', async () => {
    const cfg = trainConfig('capi', { ...tiny, steps: 4 });
    const straight = await CapiTrainer.create(cfg, source(0));
    const a: CapiStepReport[] = [];
    for (let i = 0; i < 4; i++) a.push(await straight.step());
    const end = await straight.state();
    await straight.close();

    const first = await CapiTrainer.create(cfg, source(0));
    await first.step();
    await first.step();
    const ck = join(dir, 'ck');
    await first.checkpoint(ck);
    await first.close();
    const resumed = await CapiTrainer.resume(ck, source(2));
    expect(resumed.completedSteps).toBe(2);
    const b = [await resumed.step(), await resumed.step()];
    const again = await resumed.state();
    await resumed.close();

    // Dense-feature health of the EMA encoder: measured after step 1 and at the last step, kept across the resume.
    expect(a.map((r) => r.health !== undefined)).toEqual([true, false, false, true]);
    expect(b[1].health?.step).toBe(4);
    expect(b[1].health?.locality).toBeCloseTo(a[3].health!.locality, 5);
    expect(again.health?.history.map((e) => e.step)).toEqual([1, 4]);
    for (let i = 0; i < 2; i++) {
      expect(b[i].losses.capi).toBeCloseTo(a[i + 2].losses.capi, 6);
      expect(b[i].losses.clustering).toBeCloseTo(a[i + 2].losses.clustering, 6);
    }
    for (const [what, x, y] of [
      ['student', end.student, again.student],
      ['teacher', end.teacher, again.teacher],
      ['optimizer', end.optimizer, again.optimizer],
    ] as const) {
      expect([...y.keys()].sort(), what).toEqual([...x.keys()].sort());
      for (const [k, t] of x) {
        const u = y.get(k)!;
        let err = 0;
        for (let i = 0; i < t.data.length; i++) err = Math.max(err, Math.abs(Number(t.data[i]) - Number(u.data[i])));
        expect(err, `${what} ${k}`).toBeLessThan(1e-6);
      }
    }
    // The run's model: teacher.backbone.* of the checkpoint, as core/model imports it.
    const w = await loadWeights(join(ck, 'model.safetensors'));
    expect(w.config.dim).toBe(32);
    const saved = await CapiTrainer.resume(ck, source(2));
    const tb = await saved.teacherBackbone();
    await saved.close();
    for (const [k, t] of tb) {
      const imported = w.tensors.get(k);
      expect(imported, k).toBeDefined();
      expect(Array.from(imported!.data)).toEqual(Array.from(t.data as Float32Array));
    }
    expect(w.tensors.size).toBe(tb.size);
  }, 180_000);

  it("trains on a project's images (crop workers), and fixes its length after it started", async () => {
    const project = await textureProject(dir, join(dir, 'project'));
    const tr = await CapiTrainer.forProject(trainConfig('capi', { ...tiny, steps: 100 }), project);
    try {
      const r = [await tr.step(), await tr.step()];
      tr.setTotalSteps(3);
      r.push(await tr.step());
      expect(r.map((x) => x.step)).toEqual([1, 2, 3]);
      for (const x of r) expect(Number.isFinite(x.losses.total)).toBe(true);
      expect(tr.completedSteps).toBe(tr.config.steps);
      expect(r[2].schedule.lr).toBeGreaterThan(0);
    } finally {
      await tr.close();
    }
  }, 120_000);
});

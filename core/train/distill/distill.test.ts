// DINOv3 distillation on tiny ViTs and synthetic batches (fixtures/synth-batch.ts): a teacher pretrained in the
// test (2 blocks, width 64) distilled into narrow "tiny" students (1 block, width 32).
// - A distilled student's features are closer to its teacher's (linear CKA of CLS and patch tokens on held-out
//   crops) than those of the same student pretrained from scratch for the same steps.
// - Two students in one run train exactly as each would alone (the shared teacher forward changes nothing).
// - Resume is exact: 4 steps straight = 2 + checkpoint + resume + 2.
// - A teacher whose weights carry no heads gets fresh ones; a student of another patch size is refused.
// - The patch-similarity term (loss.patchSim) is reported, counted in the total at its weight, and falls.
// - The feature-regression term (loss.featureDistil) likewise, and its teacher projection survives a resume.
// The step reuses the DINO, iBOT and KoLeo graphs (their float64 finite-difference checks are
// losses/losses.test.ts), for the patch-similarity term the Gram loss (gram/loss.test.ts, a wider teacher
// included), and the feature-regression loss (feature-loss.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig } from '../../model/config.js';
import { inferenceGraph } from '../../model/inference.js';
import { exportWeights } from '../../model/weights/export.js';
import { loadWeights } from '../../model/weights/import.js';
import { type Overrides, RECIPE_LAYER_LR, trainConfig } from '../config.js';
import { synthBatch } from '../fixtures/synth-batch.js';
import { type BatchSource, Trainer } from '../trainer.js';
import { readDistillCheckpoint } from './checkpoint.js';
import { distilConfig, type StudentSpec } from './config.js';
import { loadDistillTeacher } from './teacher.js';
import { DistillTrainer, type DistillStepReport, newStudentState } from './trainer.js';

const B = 4;
const G = 32;
const common: Overrides = {
  seed: 5,
  batchSize: B,
  crops: { globalSize: G, localSize: 16, localCrops: 2 },
  head: { prototypes: 64, hidden: 64, bottleneck: 16 },
  // The recipe's layer-wise lr decay and patch-embedding lr, as distillation keeps them (DISTIL_OVERRIDES), so the
  // teacher, the scratch student and the distilled one train with the same optimiser settings.
  optim: { baseLr: 0.08, warmupFraction: 0.1, freezeLastLayerFraction: 0, ...RECIPE_LAYER_LR },
  runtime: { threads: 1 },
};
const vit = (dim: number, depth: number): Overrides['model'] => ({
  size: 'tiny',
  vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim, depth, heads: 2, posEmbed: { gridSize: 4 } },
  from: null,
});
const TINY: StudentSpec = { size: 'tiny', vit: { dim: 32, depth: 1, heads: 2 } };

const source = (start: number, seed = 3): BatchSource => {
  let s = start;
  return { next: async () => synthBatch(s++, { batch: B, global: G, local: 16 }, seed) };
};

let dir: string;
let teacherCk: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-distil-'));
  // The teacher: pretrained here for 30 steps (the Quick preset's settings at test sizes).
  const tr = await Trainer.create(trainConfig('quick', { ...common, steps: 30, model: vit(64, 2) }), source(0, 11));
  for (let i = 0; i < 30; i++) await tr.step();
  teacherCk = join(dir, 'teacher');
  await tr.checkpoint(teacherCk);
  await tr.close();
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const distilCfg = (steps: number, over: Overrides = {}): ReturnType<typeof distilConfig> =>
  distilConfig('quick', { ...common, steps, model: vit(32, 1), ...over });

/** `steps` steps of a run planned for `total`. */
async function distil(
  steps: number,
  specs: StudentSpec[],
  total = steps,
  over: Overrides = {},
): Promise<{ trainer: DistillTrainer; reports: DistillStepReport[] }> {
  const cfg = distilCfg(total, over);
  const teacher = await loadDistillTeacher(join(teacherCk, 'model.safetensors'), cfg);
  const trainer = await DistillTrainer.create(
    cfg,
    teacher,
    specs.map((s) => newStudentState(cfg, teacher, s)),
    source(0),
    0,
  );
  const reports: DistillStepReport[] = [];
  for (let i = 0; i < steps; i++) reports.push(await trainer.step());
  return { trainer, reports };
}

/** CLS and patch tokens of a backbone (PyTorch layout) on held-out crops. */
async function features(
  cfg: ViTConfig,
  weights: ReadonlyMap<string, HostTensor>,
  images: HostTensor,
): Promise<{ cls: Float32Array; patches: Float32Array }> {
  const n = images.dims[0];
  const ig = inferenceGraph(cfg, { batch: n, height: G, width: G, weights: 'initializers', values: Object.fromEntries(weights) });
  const s = await Session.create(serialize(ig.graph));
  const out = await s.run({ images });
  await s.release();
  return { cls: out.cls.data as Float32Array, patches: out.patches.data as Float32Array };
}

/** Linear CKA between row sets X (n, a) and Y (n, b): ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) after centring the rows. */
function cka(x: Float32Array, a: number, y: Float32Array, b: number): number {
  const n = x.length / a;
  const centre = (m: Float32Array, d: number): Float64Array => {
    const out = Float64Array.from(m);
    for (let j = 0; j < d; j++) {
      let mu = 0;
      for (let i = 0; i < n; i++) mu += out[i * d + j];
      mu /= n;
      for (let i = 0; i < n; i++) out[i * d + j] -= mu;
    }
    return out;
  };
  const X = centre(x, a);
  const Y = centre(y, b);
  const cross = (P: Float64Array, p: number, Q: Float64Array, q: number): number => {
    let s = 0;
    for (let i = 0; i < p; i++)
      for (let j = 0; j < q; j++) {
        let d = 0;
        for (let r = 0; r < n; r++) d += P[r * p + i] * Q[r * q + j];
        s += d * d;
      }
    return s;
  };
  return cross(Y, b, X, a) / Math.sqrt(cross(X, a, X, a) * cross(Y, b, Y, b));
}

describe('DINOv3 distillation', () => {
  it("the patch-similarity term (loss.patchSim) is reported and pulls the student's patch Gram matrices to the teacher's", async () => {
    const { trainer, reports } = await distil(30, [TINY], 30, { loss: { patchSim: 10 } });
    await trainer.close();
    const gram = reports.map((r) => r.students[0].losses.gram);
    expect(gram.every((x) => x !== undefined && Number.isFinite(x))).toBe(true);
    const last = gram.slice(-5).reduce<number>((a, x) => a + (x ?? NaN), 0) / 5;
    process.stderr.write(`patch-similarity loss: step 1 ${gram[0]!.toFixed(4)}, mean of the last 5 ${last.toFixed(4)}\n`);
    expect(last).toBeLessThan(0.5 * gram[0]!);
    // The total includes it at its weight.
    const r = reports[0].students[0].losses;
    expect(r.total).toBeCloseTo(r.dino + r.ibot + 0.1 * r.koleo + 10 * r.gram!, 4);
  }, 120_000);

  it('a distilled tiny student is closer to its teacher than the same student pretrained from scratch for the same steps', async () => {
    const steps = Number(process.env.DISTIL_STEPS ?? 100);
    const { trainer, reports } = await distil(steps, [TINY]);
    expect(reports.every((r) => !r.signals.nan)).toBe(true);
    expect(reports[0].teacherTemp).toBe(0.07); // τ_t 0.07 from the first step (recipe §7)
    const distilled = await trainer.studentBackbone('tiny');
    const studentVit = trainer.studentList[0].vit;
    await trainer.close();

    const scratch = await Trainer.create(trainConfig('quick', { ...common, steps, model: vit(32, 1) }), source(0));
    for (let i = 0; i < steps; i++) await scratch.step();
    const scratchWeights = await scratch.teacherBackbone();
    await scratch.close();

    const t = await loadWeights(join(teacherCk, 'model.safetensors'));
    const teacherWeights = new Map([...t.tensors].map(([k, w]) => [k, hostTensor('float32', w.shape, w.data)]));
    // Held-out crops: another seed than any training batch.
    const held = synthBatch(0, { batch: 16, global: G, local: 16 }, 999).crops.global;
    const images = hostTensor('float32', [32, 3, G, G], held);
    const ft = await features(t.config, teacherWeights, images);
    const fd = await features(studentVit, distilled, images);
    const fs = await features(studentVit, scratchWeights, images);
    const cd = { cls: cka(fd.cls, 32, ft.cls, 64), patches: cka(fd.patches, 32, ft.patches, 64) };
    const cs = { cls: cka(fs.cls, 32, ft.cls, 64), patches: cka(fs.patches, 32, ft.patches, 64) };
    process.stderr.write(
      `CKA to the teacher: distilled cls ${cd.cls.toFixed(3)} patches ${cd.patches.toFixed(3)}; scratch cls ${cs.cls.toFixed(3)} patches ${cs.patches.toFixed(3)}\n`,
    );
    expect(cd.cls).toBeGreaterThan(cs.cls);
    expect(cd.patches).toBeGreaterThan(cs.patches);
  }, 240_000);

  it('the feature-regression term (loss.featureDistil) is reported and falls; its projection is saved, and resume is exact', async () => {
    const over: Overrides = { loss: { featureDistil: 5 } };
    const { trainer, reports } = await distil(30, [TINY], 30, over);
    await trainer.close();
    const feature = reports.map((r) => r.students[0].losses.gram!);
    expect(feature.every((x) => Number.isFinite(x) && x >= 0 && x <= 2)).toBe(true);
    const last = feature.slice(-5).reduce((a, x) => a + x, 0) / 5;
    process.stderr.write(`feature-regression loss: step 1 ${feature[0].toFixed(4)}, mean of the last 5 ${last.toFixed(4)}\n`);
    expect(last).toBeLessThan(0.75 * feature[0]); // measured 0.952 → 0.549
    const r = reports[0].students[0].losses;
    expect(r.total).toBeCloseTo(r.dino + r.ibot + 0.1 * r.koleo + 5 * r.gram!, 4);

    // 2 steps, checkpoint (the projection fitted at step 1 saved with the student), resume, 2 = 4 straight.
    const straight = await distil(4, [TINY], 4, over);
    await straight.trainer.close();
    const half = await distil(2, [TINY], 4, over);
    const ck = join(dir, 'distil-feature-ck');
    await half.trainer.checkpoint(ck);
    await half.trainer.close();
    const read = await readDistillCheckpoint(ck);
    const p = read.students[0].projection!;
    expect([p.teacherDim, p.studentDim]).toEqual([64, 32]);
    const teacher = await loadDistillTeacher(read.record.teacher.weights, read.first.config);
    const resumed = await DistillTrainer.create(read.first.config, teacher, read.students, source(2), read.record.step);
    const rr = [await resumed.step(), await resumed.step()];
    await resumed.close();
    rr.forEach((x, i) => {
      for (const k of ['dino', 'ibot', 'koleo', 'gram', 'total'] as const)
        expect(Math.abs(x.students[0].losses[k]! - straight.reports[i + 2].students[0].losses[k]!)).toBeLessThan(1e-6);
    });
    // Both forms of the teacher term at once are refused.
    const cfg = distilCfg(4, { loss: { featureDistil: 1, patchSim: 1 } });
    const t2 = await loadDistillTeacher(join(teacherCk, 'model.safetensors'), cfg);
    await expect(DistillTrainer.create(cfg, t2, [newStudentState(cfg, t2, TINY)], source(0), 0)).rejects.toThrow(/one of them/);
  }, 180_000);

  it('two students in one run train exactly as each alone; resume after a checkpoint is exact', async () => {
    const SMALLER: StudentSpec = { size: 'small', vit: { dim: 48, depth: 1, heads: 2 } };
    const both = await distil(4, [TINY, SMALLER]);
    const ref = await both.trainer.states();
    await both.trainer.close();
    const alone = await distil(4, [SMALLER]);
    await alone.trainer.close();
    for (let i = 0; i < 4; i++) {
      expect(both.reports[i].students.map((s) => s.name)).toEqual(['tiny', 'small']);
      for (const k of ['dino', 'ibot', 'koleo', 'total'] as const)
        expect(Math.abs(both.reports[i].students[1].losses[k] - alone.reports[i].students[0].losses[k])).toBeLessThan(1e-6);
    }

    // 2 steps, checkpoint, resume, 2 steps = the 4 straight.
    const half = await distil(2, [TINY, SMALLER], 4);
    const ck = join(dir, 'distil-ck');
    await half.trainer.checkpoint(ck);
    await half.trainer.close();
    const read = await readDistillCheckpoint(ck);
    expect(read.record.step).toBe(2);
    expect(read.record.teacher.heads).toBe('trained');
    const teacher = await loadDistillTeacher(read.record.teacher.weights, read.first.config);
    const resumed = await DistillTrainer.create(read.first.config, teacher, read.students, source(2), read.record.step);
    const rr = [await resumed.step(), await resumed.step()];
    const got = await resumed.states();
    await resumed.close();
    rr.forEach((r, i) => {
      for (const [j, s] of r.students.entries())
        for (const k of ['dino', 'ibot', 'koleo', 'total'] as const)
          expect(Math.abs(s.losses[k] - both.reports[i + 2].students[j].losses[k])).toBeLessThan(1e-6);
    });
    let worst = 0;
    for (const [j, s] of ref.entries())
      for (const part of ['student', 'teacher', 'optimizer'] as const)
        for (const [k, t] of s.contents[part]) {
          const u = got[j].contents[part].get(k)!.data as Float32Array;
          (t.data as Float32Array).forEach((x, i) => (worst = Math.max(worst, Math.abs(x - u[i]))));
        }
    expect(worst).toBeLessThanOrEqual(1e-6);
  }, 240_000);

  it('weights without heads get fresh frozen heads; another patch size or a student not smaller is refused', async () => {
    const t = await loadWeights(join(teacherCk, 'model.safetensors'));
    const bare = join(dir, 'bare');
    await exportWeights(bare, t.config, t.tensors, 'hf');
    const cfg = distilCfg(2);
    const teacher = await loadDistillTeacher(join(bare, 'model.safetensors'), cfg);
    expect(teacher.heads).toBe('fresh');
    expect(teacher.line).toMatch(/no DINO\/iBOT heads/);
    expect(teacher.params.has('dino_head/last_layer.weight_g')).toBe(true);
    expect(() => newStudentState(cfg, teacher, { size: 'tiny', vit: { dim: 32, depth: 1, heads: 2, patchSize: 16 } })).toThrow(
      /patch size 16 differs from the teacher's 8/,
    );
    expect(() => newStudentState(cfg, teacher, { size: 'tiny', vit: { dim: 64, depth: 2, heads: 2 } })).toThrow(
      /not smaller than the teacher/,
    );
  });
});

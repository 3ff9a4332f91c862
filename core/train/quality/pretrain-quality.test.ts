// Pretraining quality: a short pretraining run FROM SCRATCH on texture mosaics must make the teacher's patch
// features retrieve same-region patches clearly better than (a) the same model at its random init and
// (b) raw pixels. Regions differ in structure only (textures.ts: same two colours half and half, same grain),
// so colour statistics are at chance and the model has to learn texture.
//
// Measure: same-region precision@10 (core/train/health/retrieval.ts) over held-out mosaics (a different seed
// than the training images), exclusion radius = one extraction tile (8 patches = 32 px), so tokens that
// shared a tile with the query — and so saw the same pixels through attention — never count.
// Raw-pixel baselines: 'pixels' = the patch's own 4 × 4 × 3 pixels flattened (ImageNet-normalised, the
// exact input of that token's embedding); 'stats' = per-channel mean and std of the patch. The test asserts
// against the better of the two.
//
// Config (found by exploring the recipe knobs on this 2-core machine; see core/train/quality/README.md):
//  - patch 4 on 32 px global / 16 px local crops: with patch 8 the tokens stay dominated by the patch
//    embedding's linear projection of their own pixels for the first few hundred steps (trained ≈ random
//    ≈ raw pixels); with 4 px patches a token's pixels say little about a 9 px texture, so what the blocks
//    learn from context decides retrieval.
//  - LayerScale init 1: now the Quick preset's own value (config.ts; the recipe's 1e-5 leaves the blocks
//    silent for hundreds of steps: the teacher's CLS is identical across crops, DINO targets uniform).
//  - teacher momentum 0.8 (cosine to 1): the EMA of a student that moves this fast for a few hundred steps is
//    a poor average at the recipe's 0.992 (at 0.99 the student retrieved at 0.70 while its teacher stayed at
//    random-init level, 0.55); at 200 steps momentum 0.9 gave 0.74 / 0.62 / 0.56 over seeds 0–2, 0.8 gave
//    0.72 / 0.74 / 0.74 but 0.64 / 0.55 on seeds 3–4.
//  - 320 steps: seeds 0–4 gave 0.79 / 0.66 / 0.81 / 0.73 / 0.70 (200 steps left seed 4 at 0.55), measured
//    before the tissue mask kept faint tissue (hysteresis, holes filled); with it seed 0 gives 0.669, still
//    0.13 over random init and raw pixels. The other seeds were not rerun.
//  - K = 16 prototypes, Sinkhorn-Knopp targets at a fixed teacher temperature 0.02, base lr 0.05
//    (× √(16/1024); 0.02 and 0.1 were no better on seeds 3–4): the DINO CLS loss still sits at ln K on this
//    data (structure only, one colour pair); the gain comes through iBOT's masked-patch targets and the
//    KoLeo spread.
//  - The preset's own teacher settings instead (EMA centering, τ_t 0.04, momentum horizon → m₀ 0.969) with
//    base lr 0.05 kept: 0.716 / 0.753 / 0.743 / 0.644 / 0.593 over seeds 0–4 (seed 4 under the margin; DINO
//    targets still uniform, per-crop information ≈ 0.01 nats), so the special teacher values stay. The
//    preset's own lr (0.004 → 5e-4 at B 16) gives no gain in 320 steps (0.536 vs random 0.535, seed 0).
// Margins: random init is 0.529–0.535 and raw pixels 0.533 on every seed; the smallest gain seen at 320
// steps is 0.13 (seed 1), so a margin of 0.08 leaves room for seed-to-seed spread without accepting a no-op.
//
// CAPI (core/train/capi) trains the same model on the same mosaics by predicting the online clusters of
// masked patches; the same measure and margins. Its short-run values (capi/README.md "Short runs", where each
// is compared with the official default, figures per value): every masked patch predicted (official 5 %: 2
// of 41 here, and the teacher stays at random-init retrieval), K 16, one predictor block, lr 0.01 (0.001 and
// 0.003 learn nothing in 320 steps, 0.03 falls below random init), teacher momentum 0.8 as the DINO run's,
// 800 steps (320 left seeds 1 and 2 under the margin). 800 steps, seeds 0–3: 0.731 / 0.720 / 0.658 / 0.738
// (random init 0.529–0.535, raw pixels 0.533; smallest gain +0.125), 41–46 s of CPU time for the steps at
// load 20 (104 s wall).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Project } from '../../project/project.js';
import { type RetrievalSet, retrievalPrecision } from '../health/retrieval.js';
import { RECIPE_LAYER_LR, trainConfig } from '../config.js';
import type { HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import { type Precision } from '../precision.js';
import { Trainer } from '../trainer.js';
import { CapiTrainer } from '../capi/trainer.js';
import { backboneSet, pixelSets } from './patch-sets.js';
import { type QualityMosaicSpec, writeQualityMosaics } from './textures.js';

// QUALITY_SEED reruns it with another seed (the spread quoted below); QUALITY_PRECISION=mixed in mixed
// precision (core/graph/amp.ts, on onnxruntime's CPU float16 kernels: about twice the time, so not by default;
// seed 0 measured 2026-12-06: trained 0.762 vs random init 0.535 and raw pixels 0.533, 320 steps in 180 s).
const SEED = Number(process.env.QUALITY_SEED ?? 0);
const PRECISION: Precision = process.env.QUALITY_PRECISION === 'mixed' ? 'mixed' : 'fp32';
const STEPS = 320;
const CAPI_STEPS = 800;
const PATCH = 4;
const GLOBAL = 32;
const train: QualityMosaicSpec = { side: 384, frame: 8, seed: 1 };
const held: QualityMosaicSpec = { side: 128, frame: 4, seed: 2 };
const heldImages = [0, 1, 2, 3];
const RADIUS = GLOBAL / PATCH;

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-quality-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** precision@10 over every 4th labelled patch (the same queries for every feature source). */
function precision(s: RetrievalSet): number {
  const labelled = Int32Array.from({ length: s.n }, (_, i) => i).filter((i) => s.labels[i] >= 0);
  return retrievalPrecision(s, { k: 10, exclusionRadius: RADIUS, queries: labelled.filter((_, j) => j % 4 === 0) });
}

let mosaics: Promise<string[]> | null = null;
/** A project `name` of the four training mosaics (written once for both runs). */
async function qualityProject(name: string): Promise<Project> {
  mosaics ??= writeQualityMosaics(join(dir, 'images'), 4, train);
  const paths = await mosaics;
  const project = await Project.create(join(dir, name));
  await project.update((p) =>
    paths.forEach((path, i) =>
      p.upsert({ id: `m${i}`, path, name: `quality-${i}.png`, status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
    ),
  );
  return project;
}

/** The better raw-pixel baseline (cell pixels flattened, or their per-channel mean and std). */
function rawPixels(): { pixels: number; stats: number } {
  const raw = pixelSets(held, heldImages, PATCH);
  return { pixels: precision(raw.pixels), stats: precision(raw.stats) };
}

/** What both runs need of their trainer: its model, the teacher's backbone weights, a step, and closing. */
interface Pretraining<S> {
  readonly vit: ViTConfig;
  teacherBackbone(): Promise<Map<string, HostTensor>>;
  step(): Promise<S>;
  close(): Promise<void>;
}

/**
 * The evaluation both runs share: precision@10 of the teacher's patch features on the held-out mosaics at
 * random init and after `steps` steps, beside the raw-pixel baselines, logged on one line (wall and CPU
 * seconds of the steps, the last step's losses); the trainer is closed afterwards.
 */
async function evaluate<S extends { losses: unknown }>(
  label: string,
  tr: Pretraining<S>,
  steps: number,
): Promise<{ trained: number; random: number; pixels: number; stats: number; last: S | null }> {
  try {
    const { pixels, stats } = rawPixels();
    const random = precision(await backboneSet(held, heldImages, tr.vit, await tr.teacherBackbone(), GLOBAL));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last: S | null = null;
    for (let i = 0; i < steps; i++) last = await tr.step();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const trained = precision(await backboneSet(held, heldImages, tr.vit, await tr.teacherBackbone(), GLOBAL));
    console.log(
      `${label} (seed ${SEED}, ${steps} steps in ${seconds.toFixed(0)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s): precision@10 trained ${trained.toFixed(3)}, ` +
        `random init ${random.toFixed(3)}, raw pixels ${pixels.toFixed(3)} (patch mean+std ${stats.toFixed(3)}); last losses ${JSON.stringify(last?.losses)}`,
    );
    return { trained, random, pixels, stats, last };
  } finally {
    await tr.close();
  }
}

/** The small ViT both runs train from scratch (patch 4 on 32 px crops: see the header). */
const VIT = {
  arch: 'dinov2',
  patchSize: PATCH,
  registers: 2,
  dim: 64,
  depth: 2,
  heads: 4,
  posEmbed: { gridSize: GLOBAL / PATCH },
} as const;

describe('pretraining quality', () => {
  it(`${STEPS} steps from scratch lift same-region patch retrieval above random init and raw pixels`, async () => {
    const project = await qualityProject('project');
    const cfg = trainConfig('quick', {
      seed: SEED,
      steps: STEPS,
      batchSize: 16,
      model: { size: 'tiny', vit: VIT, from: null },
      crops: { globalSize: GLOBAL, localSize: 16, localCrops: 4 },
      head: { prototypes: 16, hidden: 256, bottleneck: 64 },
      // The recipe's layer-wise lr decay and patch-embedding lr, with which these runs were measured (the Quick
      // preset turns both off for its own size).
      optim: { baseLr: 0.05, ...RECIPE_LAYER_LR },
      teacher: { momentum: 0.8, centering: 'sinkhorn', tempStart: 0.02, temp: 0.02 },
      runtime: { threads: 2 },
    });
    const r = await evaluate(`pretrain quality (${PRECISION})`, await Trainer.forProject(cfg, project, { precision: PRECISION }), STEPS);
    expect(r.last?.signals.nan).toBe(false);
    expect(r.trained).toBeGreaterThan(r.random + MARGIN_RANDOM);
    expect(r.trained).toBeGreaterThan(Math.max(r.pixels, r.stats) + MARGIN_RAW);
  }, 600_000);

  it(`CAPI: ${CAPI_STEPS} steps from scratch lift same-region patch retrieval above random init and raw pixels`, async () => {
    const project = await qualityProject('capi');
    const cfg = trainConfig('capi', {
      seed: SEED,
      steps: CAPI_STEPS,
      batchSize: 16,
      model: { size: 'tiny', vit: VIT, from: null },
      crops: { globalSize: GLOBAL, localSize: 16, localCrops: 0 },
      capi: { prototypes: 16, predictorDepth: 1, predictFraction: 1 },
      optim: { baseLr: 0.01 },
      teacher: { momentum: 0.8, momentumHorizon: 0 },
      health: { every: 0 }, // not measured here: the retrieval below is the measure
      runtime: { threads: 2 },
    });
    const r = await evaluate('CAPI pretrain quality', await CapiTrainer.forProject(cfg, project), CAPI_STEPS);
    expect(Number.isFinite(r.last?.losses.total)).toBe(true);
    expect(r.trained).toBeGreaterThan(r.random + CAPI_MARGIN_RANDOM);
    expect(r.trained).toBeGreaterThan(Math.max(r.pixels, r.stats) + CAPI_MARGIN_RAW);
  }, 600_000);
});

const MARGIN_RANDOM = 0.08;
const MARGIN_RAW = 0.08;
const CAPI_MARGIN_RANDOM = 0.08;
const CAPI_MARGIN_RAW = 0.08;

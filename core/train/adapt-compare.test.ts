// Adaptation against plain continued training: on texture mosaics with known regions (core/analysis/fixture.ts), a tiny
// ViT pretrained here for a few dozen steps is continued for the same number of steps (a) by high-resolution
// adaptation with Gram anchoring (sizes 48–64 px, Gram teacher = the pretrained model at 96 px) and (b) by
// plain DINO + iBOT at the training size (32 px). Both teachers are then evaluated at 2× the training size
// (64 px crops, an 8 × 8 patch grid): patch-similarity locality (radius 2 and own-region share) and
// same-region retrieval precision@10 (core/train/health/retrieval.ts). The numbers are printed; only what
// is robust is asserted (both runs complete, every metric finite, computed on the 2× grid).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXTURES, textureAt, writeMosaics } from '../analysis/fixture.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/train/augment/normalize.js';
import { serialize } from '../graph/onnx.js';
import { Session } from '../graph/runtime.js';
import { hostTensor, type HostTensor } from '../graph/tensor.js';
import { patchGrid } from '../model/config.js';
import { Project } from '../project/project.js';
import { type Overrides, trainConfig } from './config.js';
import { patchLocality, retrievalPrecision, selectProbes } from './health/index.js';
import { buildBackboneGraph } from './teacher.js';
import { type StepReport, Trainer } from './trainer.js';

const SIDE = 128; // mosaic side: four 64 px quadrants
const EVAL = 64; // 2× the 32 px training crops
const IMAGES = 8;
const PRETRAIN_STEPS = 40;
const STEPS = 16;

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-adapt-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common: Overrides = {
  seed: 3,
  batchSize: 8,
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { prototypes: 64, hidden: 64, bottleneck: 16 },
  optim: { baseLr: 0.06, warmupFraction: 0.1, freezeLastLayerFraction: 0 },
  health: { every: 8, tiles: 2, perImage: 8, radius: 2 },
  runtime: { threads: 1 },
};

let project: Project;
let evalImages: HostTensor;
beforeAll(async () => {
  const paths = await writeMosaics(join(dir, 'img'), IMAGES, { side: SIDE, stride: SIDE / 8, dim: 8 });
  project = await Project.create(join(dir, 'p'));
  await project.update((doc) =>
    paths.forEach((p, i) =>
      doc.upsert({ id: `m${i}`, path: p, name: `mosaic-${i}.png`, status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
    ),
  );
  // Evaluation crops: the central 64 × 64 px of each mosaic (all four quadrants), normalised (P, 3, 64, 64).
  const data = new Float32Array(IMAGES * 3 * EVAL * EVAL);
  for (let i = 0; i < IMAGES; i++) {
    const { data: px } = await sharp(paths[i])
      .extract({ left: 32, top: 32, width: EVAL, height: EVAL })
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let c = 0; c < 3; c++)
      for (let k = 0; k < EVAL * EVAL; k++)
        data[(i * 3 + c) * EVAL * EVAL + k] = (px[3 * k + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
  evalImages = hostTensor('float32', [IMAGES, 3, EVAL, EVAL], data);
}, 60_000);

interface Metrics {
  locality: number;
  uniformLocality: number;
  region: number;
  uniformRegion: number;
  precision10: number;
  grid: number;
}

/** The teacher (or student) backbone of `tr` on the 2× evaluation crops → locality, region share, precision@10. */
async function evaluate(tr: Trainer, who: 'teacher' | 'student' = 'teacher'): Promise<Metrics> {
  const s = await tr.state();
  const graph = buildBackboneGraph(tr.vit, IMAGES, EVAL);
  const session = await Session.create(serialize(graph), { intraOpThreads: 1 });
  const feeds: Record<string, HostTensor> = { images: evalImages };
  for (const n of session.inputNames) if (n !== 'images') feeds[n] = s[who].get(n)!;
  const out = await session.run(feeds);
  await session.release();
  const { h, w } = patchGrid(tr.vit, EVAL, EVAL); // 8 × 8 (the centre crop of the mosaic's 8 × 8 stride grid, shifted by 2 cells)
  const n = h * w;
  const D = tr.vit.dim;
  const labels = new Int32Array(IMAGES * n);
  const image = new Int32Array(IMAGES * n);
  const gx = new Int32Array(IMAGES * n);
  const gy = new Int32Array(IMAGES * n);
  for (let i = 0; i < IMAGES; i++) {
    for (let p = 0; p < n; p++) {
      const x = p % w;
      const y = Math.floor(p / w);
      // Patch (x, y) covers mosaic pixels 32 + 8x … on the 16 px stride grid of the 128 px mosaic: cell (2 + x/2, 2 + y/2).
      labels[i * n + p] = textureAt(i, 2 + Math.floor(x / 2), 2 + Math.floor(y / 2), 8);
      image[i * n + p] = i;
      gx[i * n + p] = x;
      gy[i * n + p] = y;
    }
  }
  const feats = out.patches.data as Float32Array; // (IMAGES, n, D)
  const probes = selectProbes(IMAGES, { h, w }, 16, 1, 1);
  const loc = patchLocality(feats, IMAGES, { h, w }, D, probes, { radius: 2, labels });
  const precision10 = retrievalPrecision({ features: feats, n: IMAGES * n, d: D, labels, image, gx, gy }, { k: 10 });
  return {
    locality: loc.locality,
    uniformLocality: loc.uniformLocality,
    region: loc.region ?? NaN,
    uniformRegion: loc.uniformRegion ?? NaN,
    precision10,
    grid: h,
  };
}

async function run(tr: Trainer, steps: number): Promise<StepReport[]> {
  const out: StepReport[] = [];
  try {
    for (let i = 0; i < steps; i++) out.push(await tr.step());
  } catch (e) {
    await tr.close();
    throw e;
  }
  return out;
}

const fmt = (m: Metrics): string =>
  `locality ${m.locality.toFixed(3)} (uniform ${m.uniformLocality.toFixed(3)}), own-region ${m.region.toFixed(3)} (uniform ${m.uniformRegion.toFixed(3)}), precision@10 ${m.precision10.toFixed(3)} (chance ≈ ${(1 / TEXTURES).toFixed(2)})`;

describe('high-resolution adaptation vs plain DINO + iBOT, evaluated at 2× resolution', () => {
  it('runs both from the same pretrained model and prints locality and precision@10 on the 2× grid', async () => {
    const pre = await Trainer.forProject(
      trainConfig('quick', {
        ...common,
        steps: PRETRAIN_STEPS,
        model: {
          size: 'tiny',
          vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 2, heads: 2, posEmbed: { gridSize: 4 } },
          from: null,
        },
      }),
      project,
    );
    await run(pre, PRETRAIN_STEPS);
    const base = await evaluate(pre);
    await pre.checkpoint(join(dir, 'pre'));
    await pre.close();
    const from = join(dir, 'pre', 'model.safetensors');

    const adaptTr = await Trainer.forProject(
      trainConfig('adapt-cpu', {
        ...common,
        steps: STEPS,
        model: { from },
        teacher: { momentum: 0.992, tempStart: 0.04 },
        gram: {
          sizeTable: [
            { global: 48, local: 16, gram: 96, p: 0.5 },
            { global: 64, local: 16, gram: 96, p: 0.5 },
          ],
        },
      }),
      project,
    );
    const a = await run(adaptTr, STEPS);
    const adapted = await evaluate(adaptTr);
    const adaptedStudent = await evaluate(adaptTr, 'student');
    await adaptTr.close();

    const plainTr = await Trainer.forProject(trainConfig('quick', { ...common, steps: STEPS, model: { from } }), project);
    const p = await run(plainTr, STEPS);
    const plain = await evaluate(plainTr);
    const plainStudent = await evaluate(plainTr, 'student');
    await plainTr.close();

    console.log(`[adapt-compare] ${IMAGES} mosaics, eval ${EVAL} px = 2× the 32 px training crops (${base.grid}×${base.grid} patches)`);
    console.log(`[adapt-compare] pretrained (${PRETRAIN_STEPS} steps): ${fmt(base)}`);
    console.log(
      `[adapt-compare] + ${STEPS} steps high-res adaptation with Gram: ${fmt(adapted)}; gram loss ${a[0].losses.gram?.toFixed(4)} → ${a.at(-1)!.losses.gram?.toFixed(4)}; sizes ${a.map((r) => r.sizes.global).join(',')}`,
    );
    console.log(`[adapt-compare] + ${STEPS} steps plain DINO+iBOT at 32 px: ${fmt(plain)}`);
    console.log(
      `[adapt-compare] students (the EMA teachers move little in ${STEPS} steps): adapted ${fmt(adaptedStudent)}; plain ${fmt(plainStudent)}`,
    );
    console.log(
      `[adapt-compare] health (probe tiles) adapt: ${a.flatMap((r) => (r.health ? [`${r.step}: loc ${r.health.locality.toFixed(3)} cos ${r.health.clsPatchCosine.toFixed(3)}`] : [])).join('; ')}`,
    );
    console.log(
      `[adapt-compare] health (probe tiles) plain: ${p.flatMap((r) => (r.health ? [`${r.step}: loc ${r.health.locality.toFixed(3)} cos ${r.health.clsPatchCosine.toFixed(3)}`] : [])).join('; ')}`,
    );

    expect(a).toHaveLength(STEPS);
    expect(p).toHaveLength(STEPS);
    expect(a.every((r) => !r.signals.nan && Number.isFinite(r.losses.gram))).toBe(true);
    expect(p.every((r) => !r.signals.nan && r.losses.gram === undefined)).toBe(true);
    for (const m of [base, adapted, plain, adaptedStudent, plainStudent]) {
      expect(m.grid).toBe(8); // 2 × the 4 × 4 training grid
      for (const v of [m.locality, m.region, m.precision10]) expect(Number.isFinite(v)).toBe(true);
    }
  }, 150_000);
});

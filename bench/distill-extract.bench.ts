// `npm run bench -- distill-extract`: what distillation buys at extraction time. The same images extracted
// through the app's own path (core/features/extract/project.ts `extractFeatures`: reads, tiling with context
// margins, the ONNX tile model, the feature stores and the search index) once with a ViT-S/16 teacher and once
// with a ViT-Tiny/16 student of it (the distillation defaults: 4 registers, the teacher's patch size; random
// weights: the cost does not depend on the values). Each model is extracted BENCH_REPEATS times (default 2),
// alternating teacher and student, each time as a newly registered model id (a fresh feature set, nothing to
// resume); the median of each side's patches per second.
// Images: BENCH_IMAGES (2) generated 1,536 px PNG textures (96 × 96 patches = 36 tiles of 16² kept patches
// each), mask off (every tile computed), batch 8, BENCH_THREADS (2) onnxruntime threads.
// Then the model forward alone (core/features/extract/model.ts TileModel, batches of 8 tiles of 20 × 20 patches,
// median of BENCH_REPEATS + 1 after a warm-up) and the two models' forward FLOPs per kept patch
// (core/features/extract/estimate.ts flopsPerPatch): the ceiling the end-to-end ratio can reach.
// Last line: `speedup <student / teacher patches per second>` end to end (target ≥ 3).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AppService, rootAssetUrls } from '../core/app/service.js';
import { flopsPerPatch } from '../core/features/extract/estimate.js';
import { TileModel } from '../core/features/extract/model.js';
import { extractFeatures } from '../core/features/extract/project.js';
import { type ViTConfig, vitConfig } from '../core/model/config.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams, paramCount } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { fmtMachine } from './lib/machine.js';
import { median } from './lib/stats.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 2);
const SIDE = 1536;
const out = (s: string): void => void process.stdout.write(s + '\n');
const log = (s: string): void => void process.stderr.write(s + '\n');

const teacher = vitConfig('small', { arch: 'dinov2', patchSize: 16, registers: 4 });
const student = vitConfig('tiny', { arch: 'dinov2', patchSize: 16, registers: 4 });

/** A texture covering the whole image (no background: every tile is computed). */
function texture(i: number): Uint8Array {
  const px = new Uint8Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++)
      for (let c = 0; c < 3; c++)
        px[3 * (y * SIDE + x) + c] = 128 + Math.round(90 * Math.sin((x + 37 * i) / (6 + c) + (y * (c + 1)) / (13 + i)));
  return px;
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-bench-distill-extract-'));
process.env.DINOSCOPE_HOME = join(dir, 'home');
const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
try {
  const proj = join(dir, 'proj');
  await service.createProject(proj);
  const paths: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const p = join(dir, `texture-${i}.png`);
    await sharp(texture(i), { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  await service.importPaths(paths);
  await service.idle();
  const register = async (id: string, cfg: ViTConfig, seed: number): Promise<void> => {
    const tensors = new Map<string, WeightTensor>(
      Object.entries(initParams(cfg, seed)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
    );
    await exportWeights(join(projectModelsDir(proj), id), cfg, tensors, 'hf');
  };
  out(
    `distill-extract: ${fmtMachine()}, ${THREADS} threads; ${IMAGES} images of ${SIDE} px, patch 16, mask off, batch 8, ${REPEATS} repeats`,
  );
  out(
    `teacher ViT-S/16 reg4 ${(paramCount(teacher) / 1e6).toFixed(1)} M parameters; student ViT-Tiny/16 reg4 ${(paramCount(student) / 1e6).toFixed(1)} M`,
  );
  const models = { teacher: { cfg: teacher, seed: 1 }, student: { cfg: student, seed: 2 } };
  const rates: Record<keyof typeof models, number[]> = { teacher: [], student: [] };
  for (let r = 0; r < REPEATS; r++)
    for (const side of ['teacher', 'student'] as const) {
      const id = `${side}-${r}`;
      await register(id, models[side].cfg, models[side].seed);
      log(`${side}: extraction ${r + 1}/${REPEATS} …`);
      const s = await extractFeatures(
        service.requireProject(),
        service.models,
        { modelId: id, level: 0, context: 'tiled', mask: 'off', batch: 8, device: 'cpu', activate: false },
        { threads: THREADS, index: false },
      );
      log(`${side}: ${s.patches} patches in ${s.seconds.toFixed(2)} s = ${s.patchesPerSecond.toFixed(0)} patches/s (${s.provider})`);
      rates[side].push(s.patchesPerSecond);
    }
  // The forward alone, on the same tile shape (20 × 20 patches: 16² kept + 2 of margin).
  const S = 20 * 16;
  const tiles = Float32Array.from({ length: 8 * 3 * S * S }, (_, i) => Math.sin(i * 0.37));
  const forward: Record<keyof typeof models, number> = { teacher: NaN, student: NaN };
  for (const side of ['teacher', 'student'] as const) {
    const m = await TileModel.create(models[side].cfg, initParams(models[side].cfg, models[side].seed), {
      batch: 8,
      side: S,
      outputs: ['patches'],
      threads: THREADS,
    });
    await m.run(tiles); // warm-up
    const ms: number[] = [];
    for (let r = 0; r <= REPEATS; r++) {
      const t0 = performance.now();
      await m.run(tiles);
      ms.push(performance.now() - t0);
    }
    await m.release();
    forward[side] = (8 * 256 * 1000) / median(ms);
    log(`${side}: forward alone ${median(ms).toFixed(0)} ms per batch of 8 tiles`);
  }
  const flops = (c: ViTConfig): number => flopsPerPatch({ params: paramCount(c), dim: c.dim, depth: c.depth });
  out(
    `forward alone: teacher ${forward.teacher.toFixed(0)}, student ${forward.student.toFixed(0)} kept patches/s (ratio ${(forward.student / forward.teacher).toFixed(2)}); ` +
      `forward FLOPs per kept patch: teacher ${(flops(teacher) / 1e6).toFixed(1)} M, student ${(flops(student) / 1e6).toFixed(1)} M (ratio ${(flops(teacher) / flops(student)).toFixed(2)})`,
  );
  const t = median(rates.teacher);
  const st = median(rates.student);
  out(`teacher ViT-S/16: ${t.toFixed(0)} patches/s (runs: ${rates.teacher.map((x) => x.toFixed(0)).join(', ')})`);
  out(`student ViT-Tiny/16: ${st.toFixed(0)} patches/s (runs: ${rates.student.map((x) => x.toFixed(0)).join(', ')})`);
  out(`speedup ${(st / t).toFixed(2)}`);
} finally {
  await service.close();
  await rm(dir, { recursive: true, force: true });
}

// `npm run bench -- curation`: what a curated set buys a short pretraining on a skewed collection.
// Training collection: core/train/quality/skewed-collection.ts (8 images, texture 0 on ≈ 91 % of the tissue,
// textures 1–3 on ≈ 3 % each), curated by `curate` (tiles of 64 px, levels 12, 4, 32 tiles: 8 of each
// texture) on features that follow the textures. Two runs from scratch with the pretraining quality test's
// settings (core/train/quality/pretrain-quality.test.ts: ViT dim 64, depth 2, patch 4, 32 px global crops,
// K 16, Sinkhorn-Knopp τ 0.02, momentum 0.8, base lr 0.05, B 16) for the same steps and seed: one sampling
// every image's tissue uniformly (data.tiles null), one the curated set (data.tiles 'curated'), and a control:
// a set of the same size without balancing (`curate` with one cluster: tiles drawn round-robin over the
// images, so in the collection's proportions), which separates "fewer distinct tiles" from "balanced".
// Measured: same-texture precision@10 of the teacher's patch tokens on the quality test's HELD-OUT balanced
// mosaics (textures.ts quadrants, seed 2, 4 × 128 px; exclusion radius 8 patches), over the rare textures'
// patches as queries (1–3) and over texture 0's; random init for reference.
// Environment: DINOSCOPE_CURATION_STEPS (default 320), DINOSCOPE_CURATION_SEEDS (default "0"),
// DINOSCOPE_CURATION_IMAGES (default 8: 8 squares of each rare texture), DINOSCOPE_CURATION_TARGET (default
// 4 × images: every rare square and as many of texture 0 each), DINOSCOPE_CURATION_LAYOUT=large (one 128 px
// rare square an image, skewedLargeRegionAt: less texture 0 around a rare tile; images 12, target 64 then
// give 16 tiles of each texture), DINOSCOPE_CURATION_LEVELS (default "12,4": the k-means levels, bottom first),
// DINOSCOPE_CURATION_CAP (default none: the per-image cap, a fraction of the set), DINOSCOPE_CURATION_ARMS
// (default "uniform,curated,same-size,weighted": the runs made per seed; the runs are deterministic, so an arm
// measured before need not be run again; 'weighted' samples every distinct tile with curated sampling weights,
// core/features/curation/weights.ts, the same levels and cap), BENCH_THREADS (2).
// Last line: `curation rare_p10 uniform X same-size S curated Y lift Z weighted W weighted_lift V` (means over
// seeds; Z = Y − X, V = W − X). The runs and the score: core/train/quality/curation-compare.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { curate } from '../core/features/curation/curate.js';
import { Project } from '../core/project/project.js';
import { curationConfig, trainAndScore } from '../core/train/quality/curation-compare.js';
import {
  SKEWED_SPEC,
  SKEWED_TILE_PATCHES,
  skewedLargeRegionAt,
  skewedProject,
  skewedRegionAt,
} from '../core/train/quality/skewed-collection.js';
import { fmtMachine } from './lib/machine.js';

const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

const STEPS = Number(process.env.DINOSCOPE_CURATION_STEPS ?? 320);
const SEEDS = (process.env.DINOSCOPE_CURATION_SEEDS ?? '0').split(',').map((s) => Math.floor(Number(s)));
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const IMAGES = Number(process.env.DINOSCOPE_CURATION_IMAGES ?? 8);
const TARGET = Number(process.env.DINOSCOPE_CURATION_TARGET ?? 4 * IMAGES);
const LARGE = process.env.DINOSCOPE_CURATION_LAYOUT === 'large';
const LEVELS = (process.env.DINOSCOPE_CURATION_LEVELS ?? '12,4').split(',').map(Number);
const CAP = process.env.DINOSCOPE_CURATION_CAP ? Number(process.env.DINOSCOPE_CURATION_CAP) : undefined;
const ARMS = (process.env.DINOSCOPE_CURATION_ARMS ?? 'uniform,curated,same-size,weighted').split(',');
interface Row {
  seed: number;
  data: string;
  rare: number;
  common: number;
  seconds: number;
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-bench-curation-'));
const rows: Row[] = [];
try {
  log(`machine: ${fmtMachine()}`);
  const made = await skewedProject(dir, IMAGES, SKEWED_SPEC, LARGE ? skewedLargeRegionAt : skewedRegionAt);
  const project = await Project.open(made.project.dir);
  const s = await curate(project, {
    set: 'textures',
    tilePatches: SKEWED_TILE_PATCHES,
    target: TARGET,
    levels: LEVELS,
    perImageCap: CAP,
    dedupThreshold: 0.999,
    mode: 'subset',
  });
  const w = await curate(project, {
    name: 'weighted',
    set: 'textures',
    tilePatches: SKEWED_TILE_PATCHES,
    levels: LEVELS,
    perImageCap: CAP,
    dedupThreshold: 0.999,
    mode: 'weights',
  });
  log(`weighted: all ${w.picked} distinct tiles, expected draws per cluster ${w.clustersBefore.join(' ')} → ${w.clustersAfter.join(' ')}`);
  log(`curated: ${s.picked} of ${s.candidates} tiles, clusters ${s.clustersBefore.join(' ')} → ${s.clustersAfter.join(' ')}`);
  await curate(project, {
    name: 'same-size',
    set: 'textures',
    tilePatches: SKEWED_TILE_PATCHES,
    target: TARGET,
    levels: [1],
    dedupThreshold: 0.999,
    mode: 'subset',
  });
  for (const seed of SEEDS) {
    for (const arm of ARMS) {
      const tiles = arm === 'uniform' ? null : arm;
      const r = await trainAndScore(project, curationConfig(seed, STEPS, tiles, THREADS), { withInit: arm === ARMS[0], log });
      if (r.init) rows.push({ seed, data: 'random init', rare: r.init.rare, common: r.init.common, seconds: 0 });
      const row = { seed, data: tiles ?? 'uniform', rare: r.rare, common: r.common, seconds: r.seconds };
      rows.push(row);
      log(
        `seed ${seed} ${row.data}: ${STEPS} steps in ${r.seconds.toFixed(0)} s, p@10 rare ${row.rare.toFixed(3)}, texture 0 ${row.common.toFixed(3)} (load ${loadavg()[0].toFixed(1)})`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const mean = (data: string, k: 'rare' | 'common'): number => {
  const r = rows.filter((x) => x.data === data);
  return r.reduce((a, x) => a + x[k], 0) / r.length;
};
out(
  `curated (${TARGET} tiles) vs uniform pretraining on ${IMAGES} skewed images${LARGE ? ' (large rare squares)' : ''}, ${STEPS} steps, seeds ${SEEDS.join(',')}, ${THREADS} threads; ${fmtMachine()}`,
);
out('| seed | data | p@10 rare textures | p@10 texture 0 | training s |');
out('|---|---|---|---|---|');
for (const r of rows) out(`| ${r.seed} | ${r.data} | ${r.rare.toFixed(3)} | ${r.common.toFixed(3)} | ${r.seconds.toFixed(0)} |`);
const u = mean('uniform', 'rare');
const c = mean('curated', 'rare');
const same = mean('same-size', 'rare');
const wt = mean('weighted', 'rare');
out(
  `curation rare_p10 uniform ${u.toFixed(3)} same-size ${same.toFixed(3)} curated ${c.toFixed(3)} lift ${(c - u).toFixed(3)}` +
    ` weighted ${wt.toFixed(3)} weighted_lift ${(wt - u).toFixed(3)}` +
    ` (levels ${LEVELS.join(',')}${CAP !== undefined ? `, cap ${CAP}` : ''}, arms ${ARMS.join(',')})`,
);

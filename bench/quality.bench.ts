// `npm run bench -- quality`: what a short Quick-preset run buys on a collection no preset was tuned on.
// HELD-OUT data: core/train/quality/held-out.ts (five tissue-like classes, stain varying between slides). The
// TUNING sets — core/train/quality/textures.ts and core/demo/textures.ts — are not used here.
// Six 512 px slides are the project the runs train on; four other slides of the collection (other regions,
// other stains) are evaluated, every 16 px patch (the Quick preset's ViT-Tiny/16 token) whose pixels are
// ≥ 75 % one class labelled with it (border patches left out). Per method:
//   p@10  same-class precision of the 10 nearest patches (cosine) among the OTHER slides' patches, for every
//         second labelled patch as query (core/train/health/retrieval.ts with an exclusion radius of a whole
//         slide);
//   ARI   adjusted Rand index against the classes of spherical k-means (k = 5, as the app's cluster maps) on
//         all labelled patches of the four slides; `smoothed ARI` the same after the cluster maps' default
//         neighbour smoothing (core/analysis/smoothing.ts), what the app's map shows;
// methods: `random` (the Quick preset's ViT with DINOSCOPE_QUALITY_OVERRIDES at its seeded init: the architecture
// the runs train), `pixels-stats` (mean + std of each colour channel per patch) and `pixels-tiny` (the patch
// averaged to 4 × 4 × 3), both z-scored per dimension, and
// `quick` after each training budget (a `runPretrain` with --minutes M on this machine, the user's path:
// the step count follows the measured speed; the teacher is evaluated), and `capi` (a `runPretrain` with the
// CAPI preset, `dinoscope pretrain --preset capi`, on the same project for the same budget; the EMA teacher's
// encoder evaluated). ViT features: final-norm patch tokens of the whole slide in one pass (32 × 32 tokens,
// as the app extracts an image this size).
// Environment: DINOSCOPE_QUALITY_MINUTES (default "2,4,8,16"); DINOSCOPE_QUALITY_STEPS ("50,100": budgets in
// steps instead, for a loaded machine, where minutes buy a few steps and measure the load more than the
// method); DINOSCOPE_QUALITY_METHODS (default "quick,capi"); DINOSCOPE_QUALITY_SEEDS (default "0"; runs and
// random inits per seed, figures are means over seeds), BENCH_THREADS (2), DINOSCOPE_QUALITY_WRITE=0 to leave
// core/train/README.md and the plot alone (a steps run, or one on the tuning set, never writes them: they hold
// the held-out minutes table). Prints a table; last line `quality p10_8min X margin Y` (X: the 8-minute Quick
// runs' p@10, Y: X − max(random, pixel baselines); NaN when no 8-minute budget ran), or with steps
// `quality p10_<S>steps_<method> X margin Y` per method at the largest step budget.
// Experiments on a shared machine, where minutes buy a load-dependent number of steps: run by steps, and
// translate with the CPU seconds per step every run prints (user + sys of the process, crop workers
// included, from the end of step 1 to the last step: start-up and graph compilation left out): a quiet 2-core
// machine has 2 × 60 CPU-s a minute, so 8 minutes buy about 960 / (CPU-s per step) steps.
// DINOSCOPE_QUALITY_OVERRIDES (JSON config overrides of the Quick runs); DINOSCOPE_QUALITY_SET=demo measures
// the same way on the TUNING counterpart (bench/lib/demo-slides.ts: the demo's textures, 512 px slides)
// instead of the held-out slides. DINOSCOPE_QUALITY_TILES ("whole,16+2,4+2"): read-outs of every model, `whole`
// (the default, above) or `K+M` (tiles of K × K kept patches with M of context each side, the app's tiled
// extraction at 16+2); the first makes the table, the others are logged beside it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { normalizeInto } from '../core/data/train/augment/normalize.js';
import { TileModel, type ModelWeights } from '../core/features/extract/model.js';
import { assign, kmeans } from '../core/features/kmeans.js';
import { normalizeRows } from '../core/features/linalg.js';
import { smoothGrid } from '../core/analysis/smoothing.js';
import { DEFAULT_MAP_SMOOTHING } from '../core/common/map-smoothing.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import type { ViTConfig } from '../core/model/config.js';
import { initParams } from '../core/model/params.js';
import { loadWeights } from '../core/model/weights/import.js';
import { Project } from '../core/project/project.js';
import { scratchViT, trainConfig } from '../core/train/config.js';
import { type RetrievalSet, retrievalPrecision } from '../core/train/health/retrieval.js';
import { HELD_OUT_CLASS_COUNT, type HeldOutSpec, heldOutSlide, patchLabel, writeHeldOutSlides } from '../core/train/quality/held-out.js';
import { checkpointDir, runPretrain } from '../core/train/run.js';
import { linePlot, type PlotSeries } from './lib/line-plot.js';
import { fmtMachine } from './lib/machine.js';
import { adjustedRandIndex } from '../core/train/health/ari.js';
import { pixelFeatures, zScore } from './lib/quality-metrics.js';
import { DEMO_CLASS_COUNT, demoSlide, writeDemoSlides } from './lib/demo-slides.js';
import { PHOTO_CLASS_COUNT, loadPhotos, photoSlide, writePhotoSlides } from '../core/train/quality/photo-collection.js';

const list = (v: string | undefined, d: string): number[] =>
  (v ?? d)
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((x) => Number.isFinite(x) && x >= 0);
const STEPS = list(process.env.DINOSCOPE_QUALITY_STEPS, '')
  .filter((s) => s > 0)
  .map(Math.floor);
const BY_STEPS = STEPS.length > 0;
const MINUTES = BY_STEPS ? [] : list(process.env.DINOSCOPE_QUALITY_MINUTES, '2,4,8,16').filter((m) => m > 0);
const METHODS = (process.env.DINOSCOPE_QUALITY_METHODS ?? 'quick,capi').split(',').map((m) => m.trim());
for (const m of METHODS)
  if (m !== 'quick' && m !== 'capi') throw new Error(`DINOSCOPE_QUALITY_METHODS: unknown method "${m}" (quick, capi)`);
const OVERRIDES = JSON.parse(process.env.DINOSCOPE_QUALITY_OVERRIDES ?? '{}') as Record<string, unknown>;
const SEEDS = list(process.env.DINOSCOPE_QUALITY_SEEDS, '0').map(Math.floor);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const SET = process.env.DINOSCOPE_QUALITY_SET ?? 'held-out';
if (!['held-out', 'photos', 'demo'].includes(SET)) throw new Error(`DINOSCOPE_QUALITY_SET: unknown set "${SET}" (held-out, photos, demo)`);
const TUNING = SET === 'demo';
const PHOTOS = SET === 'photos';
const WRITE = process.env.DINOSCOPE_QUALITY_WRITE !== '0' && !BY_STEPS && !TUNING;
const SPEC: HeldOutSpec = { side: 512, frame: 16, regionSize: 128, seed: 1 };
const CLASSES = TUNING ? DEMO_CLASS_COUNT : PHOTOS ? PHOTO_CLASS_COUNT : HELD_OUT_CLASS_COUNT;
const photos = PHOTOS ? await loadPhotos() : null;
const TRAIN_SLIDES = { first: 0, count: 6 };
const EVAL_SLIDES = [100, 101, 102, 103]; // photos: ≥ EVAL_FIRST, cut from the photographs' other halves
const CELL = 16;
/** The README section and plot each collection's minutes table is written to. */
const MARK = PHOTOS ? 'quality-bench-photos' : 'quality-bench';
const PLOT = PHOTOS ? 'quality-bench-photos.png' : 'quality-bench.png';
const GRID = SPEC.side / CELL;
const root = join(import.meta.dirname, '..');

const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');
const load = (): string =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');

interface Score {
  p10: number;
  ari: number;
  /** p@10 of the features with their mean over the evaluation slides removed (a read-out check, logged only). */
  p10Centred: number;
  /** ARI after the maps' default neighbour smoothing (what the app's cluster map is fitted on). */
  ariSmoothed: number;
}

// The evaluation slides: pixels, normalised model input and the labelled patch grid.
const slides = EVAL_SLIDES.map((i) => (TUNING ? demoSlide(i) : photos ? photoSlide(photos, SPEC, i) : heldOutSlide(SPEC, i)));
const n = slides.length * GRID * GRID;
const base = { n, labels: new Int32Array(n), image: new Int32Array(n), gx: new Int32Array(n), gy: new Int32Array(n) };
slides.forEach((s, k) => {
  for (let gy = 0; gy < GRID; gy++)
    for (let gx = 0; gx < GRID; gx++) {
      const r = (k * GRID + gy) * GRID + gx;
      base.labels[r] = patchLabel(s, SPEC.side, CELL, gx, gy);
      base.image[r] = k;
      base.gx[r] = gx;
      base.gy[r] = gy;
    }
});
const labelled = Int32Array.from({ length: n }, (_, i) => i).filter((i) => base.labels[i] >= 0);
const queries = labelled.filter((_, j) => j % 2 === 0);

/** p@10 across slides and k-means ARI of (n, d) features. */
async function score(features: Float32Array, d: number, seed: number): Promise<Score> {
  const set: RetrievalSet = { ...base, features, d };
  const p10 = retrievalPrecision(set, { k: 10, exclusionRadius: GRID, queries });
  const p10Centred = retrievalPrecision({ ...set, features: centred(features, d) }, { k: 10, exclusionRadius: GRID, queries });
  return { p10, ari: clusterAri(features, d, seed), p10Centred, ariSmoothed: clusterAri(await smoothed(features, d), d, seed) };
}

/** ARI of spherical k-means (k = the classes) on the labelled rows of (n, d) features. */
function clusterAri(features: Float32Array, d: number, seed: number): number {
  const rows = new Float32Array(labelled.length * d);
  labelled.forEach((r, i) => rows.set(features.subarray(r * d, (r + 1) * d), i * d));
  const model = kmeans(rows, labelled.length, d, { k: CLASSES, seed: 3 + seed, spherical: true, restarts: 3, iterations: 30 });
  const found = assign(model, rows, labelled.length);
  const truth = Int32Array.from(labelled, (r) => base.labels[r]);
  return adjustedRandIndex(truth, found);
}

/** (n, d) features after the maps' default neighbour smoothing, slide by slide (each a full GRID² grid), from
 * unit rows as the app's index holds them. */
async function smoothed(features: Float32Array, d: number): Promise<Float32Array> {
  const out = new Float32Array(features.length);
  const positions = Uint32Array.from({ length: GRID * GRID }, (_, i) => i);
  for (let k = 0; k < slides.length; k++) {
    const block = normalizeRows(features.slice(k * GRID * GRID * d, (k + 1) * GRID * GRID * d), GRID * GRID, d);
    out.set(await smoothGrid(block, positions, GRID, GRID, d, DEFAULT_MAP_SMOOTHING), k * GRID * GRID * d);
  }
  return out;
}

/** (n, d) features with each column's mean removed: what cosine retrieval sees without the part every patch shares. */
function centred(features: Float32Array, d: number): Float32Array {
  const out = new Float32Array(features);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += features[i * d + j];
    m /= n;
    for (let i = 0; i < n; i++) out[i * d + j] -= m;
  }
  return out;
}

/** The read-outs asked for (DINOSCOPE_QUALITY_TILES, default `whole`): `whole` (each slide in one pass) or
 * `K+M` (tiles of K × K kept patches with M patches of context each side, as the app's tiled extraction). The
 * first is the table's figure; the others are logged beside it. */
const READOUTS = (process.env.DINOSCOPE_QUALITY_TILES ?? 'whole').split(',').map((r) => r.trim());

/** Patch tokens by read-out `r` (READOUTS). */
function readoutFeatures(vit: ViTConfig, weights: ModelWeights, r: string): Promise<Float32Array> {
  if (r === 'whole') return vitFeatures(vit, weights);
  const m = /^(\d+)\+(\d+)$/.exec(r);
  if (!m) throw new Error(`DINOSCOPE_QUALITY_TILES: "${r}" is neither whole nor K+M`);
  return tiledFeatures(vit, weights, Number(m[1]), Number(m[2]));
}

/** A slide as normalised model input, (3, side, side). */
function slideInput(rgb: Uint8Array, side: number): Float32Array {
  const chw = new Float32Array(3 * side * side); // (3, h, w) in [0, 1]
  for (let i = 0; i < side * side; i++) for (let c = 0; c < 3; c++) chw[c * side * side + i] = rgb[3 * i + c] / 255;
  const input = new Float32Array(3 * side * side);
  normalizeInto({ width: side, height: side, data: chw }, input);
  return input;
}

/** Patch tokens from tiles of K × K kept patches with M patches of context each side (windows shifted inside
 * the slide at its edges), as the app's tiled extraction reads a large image: (n, dim). */
async function tiledFeatures(vit: ViTConfig, weights: ModelWeights, K: number, M: number): Promise<Float32Array> {
  const P = SPEC.side / GRID;
  const W = Math.min(GRID, K + 2 * M);
  const model = await TileModel.create(vit, weights, { batch: 1, side: W * P, outputs: ['patches'], threads: THREADS });
  const features = new Float32Array(n * vit.dim);
  const side = SPEC.side;
  const tile = new Float32Array(3 * W * P * W * P);
  try {
    for (const [k, s] of slides.entries()) {
      const input = slideInput(s.rgb, side);
      for (let y0 = 0; y0 < GRID; y0 += K)
        for (let x0 = 0; x0 < GRID; x0 += K) {
          const sy = Math.max(0, Math.min(y0 - M, GRID - W));
          const sx = Math.max(0, Math.min(x0 - M, GRID - W));
          for (let c = 0; c < 3; c++)
            for (let y = 0; y < W * P; y++) {
              const from = c * side * side + (sy * P + y) * side + sx * P;
              tile.set(input.subarray(from, from + W * P), (c * W * P + y) * W * P);
            }
          const { patches } = await model.run(tile); // (1, W², dim)
          for (let gy = y0; gy < Math.min(y0 + K, GRID); gy++)
            for (let gx = x0; gx < Math.min(x0 + K, GRID); gx++) {
              const from = ((gy - sy) * W + (gx - sx)) * vit.dim;
              features.set(patches.subarray(from, from + vit.dim), ((k * GRID + gy) * GRID + gx) * vit.dim);
            }
        }
    }
  } finally {
    await model.release();
  }
  return features;
}

/** Scores by the first read-out; the others are logged (label: what was read). */
async function readoutScore(label: string, vit: ViTConfig, weights: ModelWeights, seed: number): Promise<Score> {
  const [first, ...rest] = READOUTS;
  const sc = await score(await readoutFeatures(vit, weights, first), vit.dim, seed);
  for (const r of rest) {
    const o = await score(await readoutFeatures(vit, weights, r), vit.dim, seed);
    log(
      `quality: ${label} read-out ${r}: p@10 ${o.p10.toFixed(3)} ARI ${o.ari.toFixed(3)}, smoothed ${o.ariSmoothed.toFixed(3)} (${first}: ${sc.p10.toFixed(3)})`,
    );
  }
  return sc;
}

/** Final-norm patch tokens of every evaluation slide in one pass each: (n, dim). */
async function vitFeatures(vit: ViTConfig, weights: ModelWeights): Promise<Float32Array> {
  const side = SPEC.side;
  const model = await TileModel.create(vit, weights, { batch: 1, side, outputs: ['patches'], threads: THREADS });
  const features = new Float32Array(n * vit.dim);
  try {
    for (const [k, s] of slides.entries()) {
      const { patches } = await model.run(slideInput(s.rgb, side)); // (1, GRID², dim), row-major over the grid
      features.set(patches, k * GRID * GRID * vit.dim);
    }
  } finally {
    await model.release();
  }
  return features;
}

/** Pixel baselines over the evaluation slides, z-scored: stats (6) and tiny (4 × 4 × 3 = 48). */
function pixelBaselines(): { stats: Float32Array; tiny: Float32Array } {
  const stats = new Float32Array(n * 6);
  const tiny = new Float32Array(n * 48);
  slides.forEach((s, k) => {
    const f = pixelFeatures(s.rgb, SPEC.side, CELL, 4);
    stats.set(f.stats, k * GRID * GRID * 6);
    tiny.set(f.tiny, k * GRID * GRID * 48);
  });
  return { stats: zScore(stats, n, 6), tiny: zScore(tiny, n, 48) };
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** One budget: minutes (the step count follows the measured speed) or a fixed step count. */
type Budget = { minutes: number } | { steps: number };
const budgetLabel = (b: Budget): string => ('steps' in b ? `${b.steps} steps` : `${b.minutes} min`);

/**
 * A run of `preset` through runPretrain (the user's path: `dinoscope pretrain --preset P`) on `project` for
 * `budget`; returns its step count and the last checkpoint's teacher (the EMA encoder: the model a run
 * registers).
 */
async function presetRun(
  project: Project,
  preset: 'quick' | 'capi',
  budget: Budget,
  seed: number,
): Promise<{ steps: number; vit: ViTConfig; weights: ModelWeights; cpuPerStep?: number }> {
  // CPU time of the steps after the first (start-up and graph compilation left out).
  let cpuAtStep1: NodeJS.CpuUsage | null = null;
  let cpuSinceStep1: NodeJS.CpuUsage | null = null;
  let lastStep = 0;
  const s = await runPretrain(project, {
    name: preset,
    preset,
    ...budget,
    overrides: { ...(preset === 'quick' ? OVERRIDES : {}), seed, runtime: { threads: THREADS } },
    checkpointMinutes: 1e6,
    log: (l) => {
      const step = /^step (\d+)\//.exec(l);
      if (step) {
        lastStep = Number(step[1]);
        if (lastStep === 1) cpuAtStep1 = process.cpuUsage();
        else if (cpuAtStep1) cpuSinceStep1 = process.cpuUsage(cpuAtStep1);
      }
      if (!step || Number(step[1]) % 25 === 0) log(`  ${l}`);
    },
  });
  const since = cpuSinceStep1 as NodeJS.CpuUsage | null;
  const w = await loadWeights(join(checkpointDir(join(project.dir, 'runs', preset)), 'model.safetensors'));
  return {
    steps: s.steps,
    vit: w.config,
    weights: w.tensors,
    ...(since && lastStep > 1 ? { cpuPerStep: (since.user + since.system) / 1e6 / (lastStep - 1) } : {}),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  log(
    `quality: ${fmtMachine()}; load ${load()}; budgets ${BY_STEPS ? `${STEPS.join(', ')} steps` : `${MINUTES.join(', ')} min`}; methods ${METHODS.join(', ')}; seeds ${SEEDS.join(', ')}; ${THREADS} threads; overrides ${JSON.stringify(OVERRIDES)}`,
  );
  log(
    `quality: ${labelled.length} labelled patches of ${n} on ${slides.length} ${TUNING ? 'demo (tuning)' : photos ? 'held-out photo' : 'held-out'} slides, ${queries.length} queries`,
  );
  const rows: {
    method: string;
    minutes: number | null;
    budget?: string;
    steps: number | null;
    scores: Score[];
    load: string;
    cpuPerStep?: number;
  }[] = [];
  const px = pixelBaselines();
  rows.push({ method: 'pixels-stats', minutes: null, steps: null, scores: [await score(px.stats, 6, 0)], load: load() });
  rows.push({ method: 'pixels-tiny', minutes: null, steps: null, scores: [await score(px.tiny, 48, 0)], load: load() });
  const random: Score[] = [];
  for (const seed of SEEDS) {
    const vit = scratchViT(trainConfig('quick', { ...OVERRIDES, seed }));
    random.push(await readoutScore(`random seed ${seed}`, vit, initParams(vit, seed), seed));
  }
  rows.push({ method: 'random', minutes: 0, steps: 0, scores: random, load: load() });
  for (const r of rows)
    log(
      `quality: ${r.method} p@10 ${mean(r.scores.map((s) => s.p10)).toFixed(3)} ARI ${mean(r.scores.map((s) => s.ari)).toFixed(3)}, smoothed ${mean(r.scores.map((s) => s.ariSmoothed)).toFixed(3)} (centred p@10 ${mean(r.scores.map((s) => s.p10Centred)).toFixed(3)})`,
    );

  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-quality-bench-'));
  try {
    const paths = TUNING
      ? await writeDemoSlides(join(dir, 'slides'), TRAIN_SLIDES.first, TRAIN_SLIDES.count)
      : photos
        ? await writePhotoSlides(photos, join(dir, 'slides'), SPEC, TRAIN_SLIDES.first, TRAIN_SLIDES.count)
        : await writeHeldOutSlides(join(dir, 'slides'), SPEC, TRAIN_SLIDES.first, TRAIN_SLIDES.count);
    const budgets: Budget[] = BY_STEPS ? STEPS.map((steps) => ({ steps })) : MINUTES.map((minutes) => ({ minutes }));
    for (const budget of budgets) {
      const scores = new Map<string, { scores: Score[]; steps: number[]; cpu: number[] }>(
        METHODS.map((m) => [m, { scores: [], steps: [], cpu: [] }]),
      );
      const loadBefore = load();
      for (const seed of SEEDS) {
        const project = await Project.create(join(dir, `p-${budgetLabel(budget).replace(' ', '')}-${seed}`));
        await project.update((p) =>
          paths.forEach((path, i) =>
            p.upsert({
              id: `s${i}`,
              path,
              name: `held-out-${i}.png`,
              status: 'ok',
              bytes: 1,
              mtime: 0,
              addedAt: new Date(0).toISOString(),
            }),
          ),
        );
        for (const method of METHODS) {
          const t0 = performance.now();
          const r = await presetRun(project, method as 'quick' | 'capi', budget, seed);
          const sc = await readoutScore(`${method} ${budgetLabel(budget)} seed ${seed}`, r.vit, r.weights, seed);
          log(
            `quality: ${method} ${budgetLabel(budget)} seed ${seed}: ${r.steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s (load ${load()}, ${r.cpuPerStep?.toFixed(2) ?? '?'} CPU-s/step), p@10 ${sc.p10.toFixed(3)} ARI ${sc.ari.toFixed(3)}, smoothed ${sc.ariSmoothed.toFixed(3)} (centred p@10 ${sc.p10Centred.toFixed(3)})`,
          );
          scores.get(method)!.scores.push(sc);
          scores.get(method)!.steps.push(r.steps);
          if (r.cpuPerStep !== undefined) scores.get(method)!.cpu.push(r.cpuPerStep);
        }
      }
      for (const [method, m] of scores)
        rows.push({
          method,
          minutes: 'minutes' in budget ? budget.minutes : null,
          budget: budgetLabel(budget),
          steps: Math.round(mean(m.steps)),
          scores: m.scores,
          load: `${loadBefore} → ${load()}`,
          ...(m.cpu.length ? { cpuPerStep: mean(m.cpu) } : {}),
        });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const p10 = (r: (typeof rows)[number]): number => mean(r.scores.map((s) => s.p10));
  const ari = (r: (typeof rows)[number]): number => mean(r.scores.map((s) => s.ari));
  const spread = (v: number[]): string => (v.length > 1 ? ` (${v.map((x) => x.toFixed(3)).join(' / ')})` : '');
  const table = [
    '| method | budget | steps | p@10 across slides | k-means ARI | ARI, maps smoothed | load (1/5/15 min) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.budget ?? (r.minutes === null ? '—' : r.minutes === 0 ? 'init' : `${r.minutes} min`)} | ${r.steps ?? '—'}${r.cpuPerStep ? ` (${r.cpuPerStep.toFixed(2)} CPU-s each)` : ''} | ${p10(r).toFixed(3)}${spread(r.scores.map((s) => s.p10))} | ${ari(r).toFixed(3)}${spread(r.scores.map((s) => s.ari))} | ${mean(r.scores.map((s) => s.ariSmoothed)).toFixed(3)}${spread(r.scores.map((s) => s.ariSmoothed))} | ${r.load} |`,
    ),
  ];
  for (const l of table) out(l);
  const floor = Math.max(...rows.filter((r) => r.method !== 'quick' && r.method !== 'capi').map(p10));
  const eight = rows.find((r) => r.method === 'quick' && r.minutes === 8);
  const x = eight ? p10(eight) : NaN;

  if (WRITE) {
    const quick = rows.filter((r) => r.method === 'quick');
    const capiRows = rows.filter((r) => r.method === 'capi');
    const series: PlotSeries[] = [
      {
        colour: [230, 140, 20],
        points: [[0, p10(rows.find((r) => r.method === 'random')!)], ...capiRows.map((r) => [r.minutes!, p10(r)] as const)],
      },
      {
        colour: [200, 40, 40],
        points: [[0, p10(rows.find((r) => r.method === 'random')!)], ...quick.map((r) => [r.minutes!, p10(r)] as const)],
      },
      { colour: [40, 90, 200], points: [[0, p10(rows[0])]], reference: true },
      { colour: [40, 160, 80], points: [[0, p10(rows[1])]], reference: true },
      { colour: [150, 150, 150], points: [[0, p10(rows.find((r) => r.method === 'random')!)]], reference: true },
    ];
    const xMax = Math.max(16, ...MINUTES);
    const png = linePlot({
      width: 560,
      height: 320,
      x: { min: 0, max: xMax, ticks: [0, 2, 4, 8, 16].filter((t) => t <= xMax) },
      y: { min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] },
      series,
    });
    const file = join(root, `core/train/quality/${PLOT}`);
    await writeFileAtomic(
      file,
      await sharp(png, { raw: { width: 560, height: 320, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const readme = join(root, 'core/train/README.md');
    const text = await readFile(readme, 'utf8');
    const section = [
      `<!-- ${MARK}:start (written by npm run bench -- quality${photos ? ' with DINOSCOPE_QUALITY_SET=photos' : ''}) -->`,
      `Last run: ${new Date().toISOString().slice(0, 16)}Z, ${fmtMachine()}, seeds ${SEEDS.join(', ')}, ${THREADS} threads, ${((performance.now() - started) / 60000).toFixed(0)} min in all.`,
      '',
      ...table,
      '',
      `![p@10 across slides against training minutes: the Quick runs in red and the CAPI runs in orange (minute 0 = random init), dashed: patch mean + std (blue), tiny image (green), random init (grey)](quality/${PLOT})`,
      `<!-- ${MARK}:end -->`,
    ].join('\n');
    const re = new RegExp(`<!-- ${MARK}:start[\\s\\S]*?<!-- ${MARK}:end -->`);
    await writeFileAtomic(
      readme,
      re.test(text)
        ? text.replace(re, section)
        : `${text.trimEnd()}\n\n## ${photos ? 'Held-out photographs' : 'Held-out quality benchmark'}\n\n${section}\n`,
    );
    log(`quality: wrote core/train/README.md and core/train/quality/${PLOT}`);
  }
  if (BY_STEPS) {
    const most = Math.max(...STEPS);
    for (const method of METHODS) {
      const r = rows.find((x) => x.method === method && x.budget === `${most} steps`)!;
      out(`quality p10_${most}steps_${method} ${p10(r).toFixed(3)} margin ${(p10(r) - floor).toFixed(3)}`);
    }
  } else out(`quality p10_8min ${x.toFixed(3)} margin ${(x - floor).toFixed(3)}`);
}

await main();

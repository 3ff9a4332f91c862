// `npm run bench -- crops`: how many training batches per second the crop pipeline (tile sampling,
// multi-crop augmentation, block masks; core/data/train/prefetch.ts) sustains with the default worker
// count, for the Quick preset (B = 16, 2 × 112 + 6 × 48 px crops from 168 px tiles, patch 16) and the
// Standard preset (B = 16, 2 × 224 + 8 × 96 px crops from 336 px tiles, patch 16). The consumer takes
// batches as fast as they come, so this is the pipeline's ceiling; a trainer slower than it never waits.
// Last line: `batches_per_s quick <q> standard <s>`. Environment: DINOSCOPE_BENCH_BATCHES (default 12).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { type MultiCropConfig, QUICK_CROPS, STANDARD_CROPS } from '../core/data/train/augment/multicrop.js';
import { produceBatch } from '../core/data/train/batch.js';
import { defaultWorkerCount, Prefetcher } from '../core/data/train/prefetch.js';
import { Rng } from '../core/data/train/random.js';
import { buildSamplingPlan, TileSampler } from '../core/data/train/sampler.js';
import { fmtMachine } from './lib/machine.js';

const BATCHES = Number(process.env.DINOSCOPE_BENCH_BATCHES ?? 12);
const log = (line: string): void => void process.stderr.write(line + '\n');

/** A 4096 × 4096 slide-like PNG: textured pink/purple tissue blobs on glass. */
async function fixture(): Promise<string> {
  const dir = join(tmpdir(), 'dinoscope-bench');
  const path = join(dir, 'crops-slide.png');
  if (existsSync(path)) return path;
  await mkdir(dir, { recursive: true });
  const side = 4096;
  const rgb = new Uint8Array(side * side * 3).fill(242); // (H, W, 3) glass
  const rng = Rng.seeded(1);
  const blobs = Array.from({ length: 12 }, () => ({
    x: rng.uniform(400, side - 400),
    y: rng.uniform(400, side - 400),
    r: rng.uniform(200, 700),
  }));
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (!blobs.some((b) => (x - b.x) ** 2 + (y - b.y) ** 2 < b.r * b.r)) continue;
      const n = rng.int(0, 70);
      const o = 3 * (y * side + x);
      rgb[o] = 210 - n;
      rgb[o + 1] = 110 - n;
      rgb[o + 2] = 170 - (n >> 1);
    }
  }
  await sharp(rgb, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toFile(path);
  return path;
}

async function run(name: string, crops: MultiCropConfig, slide: string): Promise<number> {
  const tileSize = Math.round(1.5 * crops.globalSize);
  const plan = await buildSamplingPlan([{ id: 'slide', path: slide }], { tileSize });
  const p = await Prefetcher.start({ plan, config: { seed: 1, batchSize: 16, patchSize: 16, crops } });
  await p.next(); // warm-up: worker start and the first batch
  const t0 = performance.now();
  for (let i = 0; i < BATCHES; i++) await p.next();
  const seconds = (performance.now() - t0) / 1000;
  const s = p.stats();
  await p.close();
  const perBatch = s.produceMs.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, s.produceMs.length - 1);
  const rate = BATCHES / seconds;
  log(
    `crops ${name}: ${rate.toFixed(2)} batches/s (${(rate * 16).toFixed(1)} images/s) with ${s.workers} worker(s); ${perBatch.toFixed(0)} ms per batch in a worker`,
  );
  // CPU time of one batch on this thread (no workers running): what a batch costs a core, whatever the load.
  const sampler = new TileSampler(plan);
  await produceBatch(sampler, { seed: 2, batchSize: 16, patchSize: 16, crops }, 0);
  const c0 = process.cpuUsage();
  const n = 3;
  for (let i = 1; i <= n; i++) await produceBatch(sampler, { seed: 2, batchSize: 16, patchSize: 16, crops }, i);
  const c = process.cpuUsage(c0);
  await sampler.close();
  const cpuMs = (c.user + c.system) / 1000 / n;
  log(`crops ${name}: ${cpuMs.toFixed(0)} CPU-ms per batch → ${(1000 / cpuMs).toFixed(2)} batches/s per free core`);
  return rate;
}

log(`crops: ${fmtMachine()}; ${defaultWorkerCount()} worker(s) by default`);
const slide = await fixture();
const quick = await run('quick (B 16, 2×112 + 6×48)', QUICK_CROPS, slide);
const standard = await run('standard (B 16, 2×224 + 8×96)', STANDARD_CROPS, slide);
console.log(`batches_per_s quick ${quick.toFixed(2)} standard ${standard.toFixed(2)}`);

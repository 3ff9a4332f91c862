// `npm run bench -- extract`: dense-extraction throughput of ViT-S/14 with 4 registers
// (random weights) against PyTorch on the same model and the same tiles, and the peak memory of extracting
// the 100,000 × 100,000 benchmark slide.
//
// 1. Throughput: BENCH_TILES tiles (default 32) of 280 × 280 px (16 × 16 kept patches + 2 of margin each
//    side, our default layout), cut from a generated texture and normalised once, written to a temp file.
//    Ours: core/features/extract's TileModel (onnxruntime, static batch) runs them in batches of BENCH_BATCH
//    (default 8) after one warm-up batch; PyTorch (Debian's python3-torch via /usr/bin/python3,
//    bench/python/extract_ref.py) does the same with the same thread count. Each side: the model forward
//    only, in its own process. patches/s counts the kept (stored) patches, 256 per tile, on both sides.
// 2. Memory: extractImage over the whole 100k slide's grid at level 0 (7,142 × 7,142 patches, 200k chunks)
//    with the tissue mask replaced by a 4 × 4-tile square of "tissue" (the fixture's test pattern has no
//    background for Otsu to find): every other chunk is marked background, so the run exercises the
//    full-slide bookkeeping (mask, bitmap, chunk grid) plus real reads, inference and chunk writes.
//    Peak RSS (VmHWM) of this process, which also holds the throughput model.
// Last line: `ratio <ours/pytorch patches per second>` (target ≥ 1.2).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openImage } from '../core/data/readers/registry.js';
import { extractImage } from '../core/features/extract/image.js';
import { TileModel } from '../core/features/extract/model.js';
import { normaliseInto } from '../core/features/extract/pixels.js';
import { workingResolution } from '../core/features/extract/resolution.js';
import { tileSide, type TileLayout } from '../core/features/extract/tiling.js';
import { vitConfig } from '../core/model/config.js';
import { initParams } from '../core/model/params.js';
import { fmtMachine } from './lib/machine.js';
import { fmtBytes, peakRssBytes } from './lib/rss.js';
import { writeBigPyramid } from './tiles-fixture.js';
import { torchEnv } from './lib/torch-env.js';

const PYTHON = '/usr/bin/python3';
const root = fileURLToPath(new URL('..', import.meta.url));
const TILES = Number(process.env.BENCH_TILES ?? 32);
const B = Number(process.env.BENCH_BATCH ?? 8);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  log(`extract bench: ${PYTHON} cannot import torch; install Debian's python3-torch (apt-get install -y python3-torch)`);
  process.exit(2);
}

const cfg = vitConfig('small', { arch: 'dinov2', registers: 4 });
const layout: TileLayout = { patch: 14, core: 16, margin: 2 };
const S = tileSide(layout);
const kept = layout.core * layout.core;
out(
  `extract bench: ViT-S/14 reg4 (random weights), tiles ${S} × ${S} px (${layout.core}² kept patches + ${layout.margin} margin), batch ${B}, ${TILES} tiles, ${THREADS} threads`,
);
out(`machine: ${fmtMachine()}; PyTorch ${probe.stdout.trim()}`);

const work = await mkdtemp(join(tmpdir(), 'dinoscope-bench-extract-'));
try {
  // ---- the tiles: a texture, normalised once, (n, 3, S, S) float32 ----
  const tiles = new Float32Array(TILES * 3 * S * S);
  for (let t = 0; t < TILES; t++) {
    const rgb = new Uint8Array(S * S * 3); // (S, S, 3)
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (let c = 0; c < 3; c++)
          rgb[3 * (y * S + x) + c] = 128 + Math.round(100 * Math.sin((x + 31 * t) / (5 + c) + (y * (c + 1)) / 11));
    normaliseInto({ data: rgb, width: S, height: S }, tiles, t);
  }
  const tilesPath = join(work, 'tiles.f32');
  await writeFile(tilesPath, new Uint8Array(tiles.buffer));

  // ---- ours ----
  log('ours: compiling the model …');
  const model = await TileModel.create(cfg, initParams(cfg, 0), { batch: B, side: S, outputs: ['patches'], threads: THREADS });
  const batch = (i: number): Float32Array => {
    const b = new Float32Array(B * 3 * S * S);
    b.set(tiles.subarray(i * 3 * S * S, Math.min(TILES, i + B) * 3 * S * S));
    return b;
  };
  await model.run(batch(0)); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < TILES; i += B) await model.run(batch(i));
  const oursSec = (performance.now() - t0) / 1000;
  const oursRate = (TILES * kept) / oursSec;
  out(`ours:    ${TILES} tiles in ${oursSec.toFixed(2)} s = ${oursRate.toFixed(0)} patches/s`);

  // ---- PyTorch ----
  log('pytorch: running …');
  const py = spawnSync(PYTHON, [join(root, 'bench/python/extract_ref.py'), tilesPath, String(S), String(B), String(THREADS)], {
    encoding: 'utf8',
    env: torchEnv({ OMP_NUM_THREADS: String(THREADS) }),
  });
  if (py.status !== 0) throw new Error(`extract_ref.py failed: ${py.stderr}`);
  const ref = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; tiles: number };
  const torchRate = (ref.tiles * kept) / ref.seconds;
  out(`pytorch: ${ref.tiles} tiles in ${ref.seconds.toFixed(2)} s = ${torchRate.toFixed(0)} patches/s`);

  // ---- memory on the 100k slide ----
  if (process.env.BENCH_MEMORY !== '0') {
    const slide = join(tmpdir(), 'dinoscope-bench', 'tiles-100000.tif');
    if (!existsSync(slide)) {
      log(`memory: writing the 100k slide to ${slide} (once) …`);
      await writeBigPyramid(slide, 100_000);
    }
    const reader = await openImage(slide);
    const res = workingResolution(reader.meta, { level: 0 }, cfg.patchSize, slide);
    const compute = new Uint8Array(res.gridWidth * res.gridHeight); // (gh, gw): a 4 × 4-tile square of "tissue"
    const y0 = 200 * layout.core;
    const x0 = 200 * layout.core;
    for (let y = y0; y < y0 + 4 * layout.core; y++) compute.fill(1, y * res.gridWidth + x0, y * res.gridWidth + x0 + 4 * layout.core);
    const t1 = performance.now();
    const r = await extractImage({
      reader,
      storeDir: join(work, 'slide.zarr'),
      model,
      modelId: 'vits14-reg4-random',
      modelConfigHash: 'bench',
      res,
      layout,
      tissue: compute,
      compute,
    });
    await reader.close();
    out(
      `memory: 100,000 × 100,000 slide, grid ${res.gridWidth} × ${res.gridHeight} patches, ${r.tiles} chunks: ${r.computed} computed, ${r.background} background, ${((performance.now() - t1) / 1000).toFixed(1)} s end to end (${(r.patches / r.seconds).toFixed(0)} patches/s incl. reads and writes); peak RSS ${fmtBytes(peakRssBytes(process.pid))} (target < 3 GB)`,
    );
  }
  await model.release();
  out(`ratio ${(oursRate / torchRate).toFixed(3)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}

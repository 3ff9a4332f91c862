// Dense extraction over a real PNG through real onnxruntime sessions: the stitched grid against one
// forward pass over the whole image, background skipping, resume after an interruption.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageReader } from '../../data/reader.js';
import { openImage } from '../../data/readers/registry.js';
import { vitConfig, type ViTConfig } from '../../model/config.js';
import { initParams } from '../../model/params.js';
import { openFeatureStore } from '../store/reader.js';
import { extractImage } from './image.js';
import { TileModel } from './model.js';
import { normaliseInto } from './pixels.js';
import { workingResolution } from './resolution.js';
import { tileSide, type TileLayout } from './tiling.js';

const SIDE = 14 * 36; // 36 × 36 patches of 14 px
let dir: string;
let png: string;
let reader: ImageReader;

/** A textured RGB image (h, w, 3): sinusoids of several periods plus seeded noise, so every patch differs. */
function texture(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = 12345;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) out[3 * (y * w + x) + c] = Math.max(0, Math.min(255, 128 + 60 * Math.sin((x * (c + 1)) / 9 + y / 13) + 40 * Math.cos((y * (c + 2)) / 17) + 30 * (rnd() - 0.5)));
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-extract-'));
  png = join(dir, 'tex.png');
  await writeFile(png, await sharp(texture(SIDE, SIDE), { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer());
  reader = await openImage(png);
});
afterAll(async () => {
  await reader.close();
  await rm(dir, { recursive: true, force: true });
});

const tiny = (layerScale: number): ViTConfig => vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4, layerScale: { init: layerScale } });

/** One forward pass over the whole image: patch features (36, 36, D). */
async function wholeImage(cfg: ViTConfig, weights: ReturnType<typeof initParams>): Promise<Float32Array> {
  const m = await TileModel.create(cfg, weights, { batch: 1, side: SIDE, outputs: ['patches'], threads: 1 });
  const buf = new Float32Array(3 * SIDE * SIDE);
  normaliseInto(await reader.readRegion(0, 0, 0, SIDE, SIDE), buf, 0);
  const out = (await m.run(buf)).patches;
  await m.release();
  return out;
}

/** Extract with the layout into a fresh store; returns the stitched grid (36, 36, D). */
async function stitched(cfg: ViTConfig, weights: ReturnType<typeof initParams>, layout: TileLayout, name: string): Promise<Float32Array> {
  const model = await TileModel.create(cfg, weights, { batch: 4, side: tileSide(layout), outputs: ['patches'], threads: 1 });
  const res = workingResolution(reader.meta, { level: 0 }, cfg.patchSize, png);
  const storeDir = join(dir, `${name}.zarr`);
  await extractImage({ reader, storeDir, model, modelId: 'tiny', modelConfigHash: name, res, layout, tissue: null, compute: null });
  await model.release();
  const store = await openFeatureStore(storeDir);
  return store.readRect(0, 0, res.gridWidth, res.gridHeight);
}

describe('dense extraction', () => {
  it('tiles cover the grid: stitched features of a one-patch-receptive-field model equal one whole-image pass to 1e-3', async () => {
    // Zero position embedding and zero q/k/v weights: every attention output is the same for all tokens,
    // so each patch's feature depends only on its own pixels and tiling must reproduce the whole pass.
    const cfg = tiny(1);
    const w = initParams(cfg, 7);
    (w.pos_embed.data as Float32Array).fill(0);
    for (let i = 0; i < cfg.depth; i++) (w[`blocks.${i}.attn.qkv.weight`].data as Float32Array).fill(0);
    const whole = await wholeImage(cfg, w);
    const grid = await stitched(cfg, w, { patch: 14, core: 8, margin: 2 }, 'local');
    expect(grid.length).toBe(whole.length);
    // The store holds float16: |error| ≤ 2^-11 · |value| from rounding, plus float32 noise.
    let worst = 0;
    for (let i = 0; i < grid.length; i++) worst = Math.max(worst, Math.abs(grid[i] - whole[i]) / Math.max(1, Math.abs(whole[i])));
    expect(worst).toBeLessThan(1e-3);
  }, 60_000);

  it('with global attention: no seams (border patches match the whole pass as well as core centres); the tile-vs-whole gap is measured and bounded', async () => {
    // A random tiny ViT with LayerScale 1 (attention mixes strongly) and a learned, interpolated pos-embed:
    // no tile can equal the whole pass, since every token attends to every other and the pos-embed is
    // resampled to the tile's grid. Measured here (2 blocks, dim 64): relative RMS error ≈ 3.7e-2 without
    // margins and ≈ 3.9e-2 with 3-patch margins, the same at core borders as at core centres: for a random
    // (position-blind) model the gap is global, not a seam. Real DINO attention is mostly local, where
    // margins are what remove the seams; we assert what holds for any model: no border excess, and a bound.
    const cfg = tiny(1);
    const w = initParams(cfg, 11);
    const whole = await wholeImage(cfg, w);
    const D = cfg.dim;
    /** Relative RMS error of the stitched grid against the whole pass, over border and over inner core patches. */
    const errors = (g: Float32Array, core: number): { border: number; inner: number; all: number } => {
      const acc = { border: [0, 0], inner: [0, 0], all: [0, 0] };
      for (let y = 0; y < 36; y++)
        for (let x = 0; x < 36; x++) {
          const u = x % core;
          const v = y % core;
          const onBorder = u === 0 || v === 0 || u === core - 1 || v === core - 1;
          const inner = u >= 2 && v >= 2 && u < core - 2 && v < core - 2;
          let e = 0;
          let n = 0;
          for (let k = 0; k < D; k++) {
            const i = (y * 36 + x) * D + k;
            e += (g[i] - whole[i]) ** 2;
            n += whole[i] ** 2;
          }
          for (const [key, on] of [['border', onBorder], ['inner', inner], ['all', true]] as const) {
            if (!on) continue;
            acc[key][0] += e;
            acc[key][1] += n;
          }
        }
      return { border: Math.sqrt(acc.border[0] / acc.border[1]), inner: Math.sqrt(acc.inner[0] / acc.inner[1]), all: Math.sqrt(acc.all[0] / acc.all[1]) };
    };
    const e0 = errors(await stitched(cfg, w, { patch: 14, core: 8, margin: 0 }, 'm0'), 8);
    const e3 = errors(await stitched(cfg, w, { patch: 14, core: 8, margin: 3 }, 'm3'), 8);
    const f = (e: typeof e0): string => `all ${e.all.toExponential(2)}, core border ${e.border.toExponential(2)}, core centre ${e.inner.toExponential(2)}`;
    process.stderr.write(`relative RMS error vs one whole pass — margin 0: ${f(e0)}; margin 3: ${f(e3)}\n`);
    for (const e of [e0, e3]) {
      expect(e.border).toBeLessThan(1.1 * e.inner);
      expect(e.all).toBeLessThan(0.08);
    }
  }, 60_000);
});


// Randomness of the multi-crop pipeline, tested statistically: rates per crop index, solarize only on
// global 2, RandomResizedCrop scale/ratio ranges; and the (B, 3, S, S) slot layout.
import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { chwImage, type ChwImage } from './image.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './normalize.js';
import { allocCropBatch, type CropRecord, multiCropInto, QUICK_CROPS, STANDARD_CROPS, type MultiCropConfig } from './multicrop.js';

function textureTile(size: number, seed: number): ChwImage {
  const rng = Rng.seeded(seed);
  const img = chwImage(size, size);
  for (let i = 0; i < img.data.length; i++) img.data[i] = 0.3 + 0.4 * rng.random();
  return img;
}

const rate = (xs: boolean[]): number => xs.filter(Boolean).length / xs.length;

describe('multi-crop (DINOv2 reference probabilities)', () => {
  // The statistics need many draws, not big pixels: the Quick recipe at 1/4 of its sizes (same probabilities and scales).
  const n = 400;
  const small: MultiCropConfig = { ...QUICK_CROPS, globalSize: 28, localSize: 12 };
  const rng = Rng.seeded(2024);
  const tile = textureTile(42, 1);
  const out = allocCropBatch(1, small);
  const all: CropRecord[][] = [];
  for (let i = 0; i < n; i++) all.push(multiCropInto(tile, rng, out, 0));
  const g1 = all.map((r) => r[0]);
  const g2 = all.map((r) => r[1]);
  const locals = all.flatMap((r) => r.slice(2));

  it('has the Quick shapes: (2, B, 3, 112, 112) and (6, B, 3, 48, 48)', () => {
    expect(all[0].map((r) => r.kind)).toEqual(['global1', 'global2', 'local', 'local', 'local', 'local', 'local', 'local']);
    const quick = allocCropBatch(4, QUICK_CROPS);
    expect(quick.global.length).toBe(2 * 4 * 3 * 112 * 112);
    expect(quick.local.length).toBe(6 * 4 * 3 * 48 * 48);
    multiCropInto(textureTile(168, 2), Rng.seeded(1), quick, 3);
    expect(quick.global.every(Number.isFinite)).toBe(true);
    expect(quick.local.every(Number.isFinite)).toBe(true);
  });

  it('blurs global 1 never, global 2 at 0.9, locals at 0.5, with σ in [0.1, 2)', () => {
    expect(rate(g1.map((r) => r.blur !== null))).toBe(0);
    expect(rate(g2.map((r) => r.blur !== null))).toBeGreaterThan(0.85);
    expect(rate(g2.map((r) => r.blur !== null))).toBeLessThan(0.95);
    expect(Math.abs(rate(locals.map((r) => r.blur !== null)) - 0.5)).toBeLessThan(0.04);
    const sigmas = [...g2, ...locals].flatMap((r) => (r.blur === null ? [] : [r.blur]));
    expect(Math.min(...sigmas)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...sigmas)).toBeLessThan(2.0);
  });

  it('solarizes only global 2, at 0.2', () => {
    expect(rate(g1.map((r) => r.solarize))).toBe(0);
    expect(rate(locals.map((r) => r.solarize))).toBe(0);
    expect(Math.abs(rate(g2.map((r) => r.solarize)) - 0.2)).toBeLessThan(0.06);
  });

  it('flips at 0.5, jitters at 0.8, greys at 0.2 on every crop kind; no microscopy ops by default', () => {
    const crops = all.flat();
    expect(Math.abs(rate(crops.map((r) => r.hflip)) - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(rate(crops.map((r) => r.jitter)) - 0.8)).toBeLessThan(0.03);
    expect(Math.abs(rate(crops.map((r) => r.grayscale)) - 0.2)).toBeLessThan(0.03);
    expect(crops.some((r) => r.vflip || r.quarterTurns || r.hed)).toBe(false);
  });

  it('RandomResizedCrop boxes cover 0.32–1 (global) and 0.05–0.32 (local) of the tile, ratio 3/4–4/3', () => {
    const area = 42 * 42;
    const frac = (r: CropRecord): number => (r.box.height * r.box.width) / area;
    const globals = [...g1, ...g2];
    // Rounding the box to whole pixels of a 42 px tile moves the fraction by up to ~5% (two sides ± 0.5 px).
    expect(Math.min(...globals.map(frac))).toBeGreaterThan(0.32 * 0.9);
    expect(Math.max(...globals.map(frac))).toBeLessThanOrEqual(1);
    expect(Math.min(...locals.map(frac))).toBeGreaterThan(0.05 * 0.75);
    expect(Math.max(...locals.map(frac))).toBeLessThan(0.32 * 1.1);
    const mean = globals.map(frac).reduce((s, v) => s + v, 0) / globals.length;
    expect(mean).toBeGreaterThan(0.55); // U(0.32, 1) has mean 0.66; big boxes are clipped by the 10 tries
    for (const r of [...globals, ...locals]) {
      const ratio = r.box.width / r.box.height;
      expect(ratio).toBeGreaterThan((3 / 4) * 0.7);
      expect(ratio).toBeLessThan(4 / 3 / 0.7);
      expect(r.box.top + r.box.height).toBeLessThanOrEqual(42);
      expect(r.box.left + r.box.width).toBeLessThanOrEqual(42);
    }
  });

  it('microscopy options: v-flip .5, quarter turns uniform, HED jitter on every crop', () => {
    const cfg: MultiCropConfig = { ...small, microscopy: { vflip: true, rot90: true, hedSigma: 0.05 } };
    const r2 = Rng.seeded(7);
    const b = allocCropBatch(1, cfg);
    const recs = Array.from({ length: 150 }, () => multiCropInto(tile, r2, b, 0)).flat();
    expect(Math.abs(rate(recs.map((r) => r.vflip)) - 0.5)).toBeLessThan(0.05);
    for (let k = 0; k < 4; k++) expect(Math.abs(rate(recs.map((r) => r.quarterTurns === k)) - 0.25)).toBeLessThan(0.04);
    expect(recs.every((r) => r.hed)).toBe(true);
  });

  it('writes sample b of crop group g into slot (g, b) of the batch, normalised', () => {
    // No colour ops: a flat grey tile stays flat, so each slot must hold its own tile's normalised value.
    const plain: MultiCropConfig = {
      ...STANDARD_CROPS,
      globalSize: 32,
      localSize: 16,
      localCrops: 3,
      jitterP: 0,
      grayscaleP: 0,
      blurP: { global1: 0, global2: 0, local: 0 },
      solarizeP: 0,
    };
    const B = 3;
    const batch = allocCropBatch(B, plain);
    const levels = [0.2, 0.5, 0.8];
    const r3 = Rng.seeded(1);
    levels.forEach((v, b) => multiCropInto(chwImage(48, 48, new Float32Array(3 * 48 * 48).fill(v)), r3, batch, b));
    const check = (data: Float32Array, groups: number, size: number): void => {
      const elems = 3 * size * size;
      for (let g = 0; g < groups; g++) {
        for (let b = 0; b < B; b++) {
          for (let c = 0; c < 3; c++) {
            const at = (g * B + b) * elems + c * size * size + 5;
            expect(data[at]).toBeCloseTo((levels[b] - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
          }
        }
      }
    };
    check(batch.global, 2, 32);
    check(batch.local, 3, 16);
  });

  it('is reproducible from the seed', () => {
    const a = allocCropBatch(1, QUICK_CROPS);
    const b = allocCropBatch(1, QUICK_CROPS);
    multiCropInto(tile, Rng.seeded(5), a, 0);
    multiCropInto(tile, Rng.seeded(5), b, 0);
    expect(Buffer.from(a.global.buffer).equals(Buffer.from(b.global.buffer))).toBe(true);
    expect(Buffer.from(a.local.buffer).equals(Buffer.from(b.local.buffer))).toBe(true);
  });
});

// Gram crops (recipe §3): each global crop's geometry (box, flips, quarter turns) at the Gram teacher's side
// without photometric ops. Checked against the global crop itself when colour, grey, blur and solarize are off.
import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { chwImage, type ChwImage } from './image.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './normalize.js';
import { allocCropBatch, multiCropInto, QUICK_CROPS, type MultiCropConfig } from './multicrop.js';
import { resizedCrop } from './resized-crop.js';

/** A smooth but asymmetric tile (so flips and turns show), values in [0, 1]. */
function smoothTile(size: number): ChwImage {
  const img = chwImage(size, size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++)
        img.data[(c * size + y) * size + x] = 0.5 + 0.4 * Math.sin((x * (c + 1)) / 9 + y / 13) * Math.cos(y / (7 + c));
    }
  }
  return img;
}

/** Slot (g, b) of a normalised (2, B, 3, S, S) buffer, un-normalised back to [0, 1]. */
function slot(buf: Float32Array, B: number, g: number, b: number, S: number): ChwImage {
  const n = 3 * S * S;
  const img = chwImage(S, S, buf.slice((g * B + b) * n, (g * B + b + 1) * n));
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < S * S; i++) img.data[c * S * S + i] = img.data[c * S * S + i] * IMAGENET_STD[c] + IMAGENET_MEAN[c];
  return img;
}

const noPhoto = (cfg: MultiCropConfig): MultiCropConfig => ({
  ...cfg,
  jitterP: 0,
  grayscaleP: 0,
  blurP: { global1: 0, global2: 0, local: 0 },
  solarizeP: 0,
});

describe('Gram crops', () => {
  const tile = smoothTile(96);
  const cfg = noPhoto({
    ...QUICK_CROPS,
    globalSize: 32,
    localSize: 16,
    localCrops: 2,
    microscopy: { vflip: true, rot90: true, hedSigma: 0 },
  });
  const B = 3;

  it('at the global side, equal the global crops exactly when photometric ops are off', () => {
    const out = allocCropBatch(B, cfg, 32);
    const rng = Rng.seeded(7);
    for (let b = 0; b < B; b++) multiCropInto(tile, rng, out, b);
    expect(out.gram).toEqual(out.global);
  });

  it('at 2× the side, downsampled to the global side, match the un-jittered global crops', () => {
    const out = allocCropBatch(B, cfg, 64);
    const rng = Rng.seeded(11);
    const recs = [];
    for (let b = 0; b < B; b++) recs.push(multiCropInto(tile, rng, out, b));
    expect(recs.flat().some((r) => r.hflip || r.vflip || r.quarterTurns)).toBe(true);
    let worst = 0;
    for (let g = 0; g < 2; g++) {
      for (let b = 0; b < B; b++) {
        const big = slot(out.gram!, B, g, b, 64);
        const small = resizedCrop(big, { top: 0, left: 0, height: 64, width: 64 }, 32, 32);
        const ref = slot(out.global, B, g, b, 32);
        for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(small.data[i] - ref.data[i]));
      }
    }
    expect(worst).toBeLessThan(0.02);
  });

  it('take no random draws: the other crops are identical with and without them, photometric ops on', () => {
    const full = { ...QUICK_CROPS, globalSize: 32, localSize: 16, localCrops: 2 };
    const a = allocCropBatch(B, full, 48);
    const b = allocCropBatch(B, full);
    const ra = Rng.seeded(3);
    const rb = Rng.seeded(3);
    for (let i = 0; i < B; i++) {
      multiCropInto(tile, ra, a, i);
      multiCropInto(tile, rb, b, i);
    }
    expect(a.global).toEqual(b.global);
    expect(a.local).toEqual(b.local);
    expect(b.gram).toBeUndefined();
    expect(a.gram!.length).toBe(2 * B * 3 * 48 * 48);
  });
});

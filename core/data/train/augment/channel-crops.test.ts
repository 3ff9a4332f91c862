// Multi-crop on a 5-channel fluorescence tile: crops keep C channels; a structure in one channel stays in that
// channel only (geometry is shared, intensity ops are per channel); per-channel intensity jitter and channel
// dropout replace colour jitter and grayscale; solarize, HED and grayscale never run; crops are normalised
// with the grey statistics.
import { describe, expect, it } from 'vitest';
import { CHANNEL_MEAN, CHANNEL_STD } from '../../../model/input-norm.js';
import { Rng } from '../random.js';
import { channelIntensity, dropChannel, sampleIntensity } from './channel-intensity.js';
import { chwImage } from './image.js';
import { type CropRecord, QUICK_CROPS, allocCropBatch, multiCropInto } from './multicrop.js';

const C = 5;
const S = 72;

/** Dark background everywhere; a bright 24 × 24 square in channel 2 only, centred. */
function tile(): ReturnType<typeof chwImage> {
  const img = chwImage(S, S, undefined, C);
  for (let y = 24; y < 48; y++) for (let x = 24; x < 48; x++) img.data[2 * S * S + y * S + x] = 0.8;
  return img;
}

describe('multi-channel crops', () => {
  it('per-channel intensity: gain, gamma and offset per channel, clamped; dropout zeroes one channel', () => {
    const img = chwImage(1, 2, Float32Array.from([0.25, 0.5, 0.25, 0.5]), 2);
    channelIntensity(img, { gain: [2, 1], gamma: [1, 2], offset: [0, 0.6] });
    [0.5, 1, 0.6625, 0.85].forEach((v, i) => expect(img.data[i]).toBeCloseTo(v, 6));
    dropChannel(img, 0);
    expect(Array.from(img.data.subarray(0, 2))).toEqual([0, 0]);
    const p = sampleIntensity(Rng.seeded(1, 0), 3);
    for (let c = 0; c < 3; c++) {
      expect(p.gain[c]).toBeGreaterThanOrEqual(0.6);
      expect(p.gain[c]).toBeLessThanOrEqual(1.4);
      expect(Math.abs(Math.log(p.gamma[c]))).toBeLessThanOrEqual(Math.log(1.5) + 1e-12);
      expect(Math.abs(p.offset[c])).toBeLessThanOrEqual(0.1);
    }
  });

  it('keep a one-channel structure in its channel, on 5-channel crops with the grey statistics', () => {
    const cfg = { ...QUICK_CROPS, globalSize: 32, localSize: 16, localCrops: 2 };
    const records: CropRecord[] = [];
    const off = (0 - CHANNEL_MEAN) / CHANNEL_STD; // a dark sample after normalisation
    let brightInTwo = 0;
    for (let seed = 0; seed < 40; seed++) {
      const out = allocCropBatch(1, cfg, undefined, C);
      expect(out.global.length).toBe(2 * C * 32 * 32);
      expect(out.local.length).toBe(2 * C * 16 * 16);
      const recs = multiCropInto(tile(), Rng.seeded(seed, 0), out, 0);
      records.push(...recs);
      for (let g = 0; g < 2; g++) {
        const plane = 32 * 32;
        const crop = out.global.subarray(g * C * plane, (g + 1) * C * plane);
        const value = (c: number, i: number): number => crop[c * plane + i] * CHANNEL_STD + CHANNEL_MEAN; // back to [0, 1]
        for (let c = 0; c < C; c++) {
          let max = 0;
          for (let i = 0; i < plane; i++) max = Math.max(max, value(c, i));
          if (c !== 2)
            expect(max).toBeLessThanOrEqual(0.1 + 1e-5); // at most the intensity offset: no signal leaks in
          else if (max > 0.4) brightInTwo++;
          if (recs[g].droppedChannel === c) for (let i = 0; i < plane; i++) expect(crop[c * plane + i]).toBeCloseTo(off, 5);
        }
      }
    }
    expect(brightInTwo).toBeGreaterThan(40); // the square is in most global crops (scale ≥ 0.32 of a centred square)
    expect(records.some((r) => r.jitter)).toBe(true);
    expect(records.some((r) => r.droppedChannel !== undefined)).toBe(true);
    expect(records.some((r) => r.blur !== null)).toBe(true);
    expect(records.every((r) => !r.solarize && !r.grayscale && !r.hed)).toBe(true);
  });

  it('refuses a tile whose channel count differs from the crops', () => {
    const out = allocCropBatch(1, { ...QUICK_CROPS, globalSize: 32, localSize: 16, localCrops: 0 }, undefined, 4);
    expect(() => multiCropInto(tile(), Rng.seeded(0, 0), out, 0)).toThrow(/a 5-channel tile for 4-channel crops/);
  });
});

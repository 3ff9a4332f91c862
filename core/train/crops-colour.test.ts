// crops.colour: the photometric augmentations of a run reach the crop pipeline, are checked, and a config saved
// before the key existed resumes with the reference's values.
import { describe, expect, it } from 'vitest';
import { Rng } from '../data/train/random.js';
import { chwImage } from '../data/train/augment/image.js';
import { allocCropBatch, multiCropInto } from '../data/train/augment/multicrop.js';
import { completeConfig, REFERENCE_COLOUR, trainConfig, type TrainConfig } from './config.js';
import { cropsConfig } from './data.js';

function tile(size: number): ReturnType<typeof chwImage> {
  const rng = Rng.seeded(3);
  const img = chwImage(size, size);
  for (let i = 0; i < img.data.length; i++) img.data[i] = 0.2 + 0.6 * rng.random();
  return img;
}

describe('crops.colour', () => {
  it('sets the jitter, grayscale and solarize of the crops', () => {
    const off = cropsConfig(trainConfig('quick', { crops: { colour: { jitterP: 0, grayscaleP: 0, solarizeP: 0, jitterStrength: 1 } } }));
    const small = { ...off, globalSize: 16, localSize: 8, localCrops: 2 };
    const out = allocCropBatch(1, small);
    const rng = Rng.seeded(1);
    const recs = Array.from({ length: 100 }, () => multiCropInto(tile(24), rng, out, 0)).flat();
    expect(recs.some((r) => r.jitter || r.grayscale || r.solarize)).toBe(false);

    const ref = cropsConfig(trainConfig('standard'));
    expect([ref.jitterP, ref.grayscaleP, ref.solarizeP]).toEqual([0.8, 0.2, 0.2]);
    expect(ref.jitter).toEqual({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 });
    const half = cropsConfig(trainConfig('standard', { crops: { colour: { ...REFERENCE_COLOUR, jitterStrength: 0.5 } } }));
    expect(half.jitter).toEqual({ brightness: 0.2, contrast: 0.2, saturation: 0.1, hue: 0.05 });
  });

  it('refuses probabilities outside [0, 1] and a strength whose hue leaves ±0.5', () => {
    expect(() => trainConfig('quick', { crops: { colour: { ...REFERENCE_COLOUR, grayscaleP: 1.5 } } })).toThrow(/crops.colour.grayscaleP/);
    expect(() => trainConfig('quick', { crops: { colour: { ...REFERENCE_COLOUR, jitterStrength: 6 } } })).toThrow(/jitterStrength/);
  });

  it('a config saved before the key existed resumes with the reference augmentations', () => {
    const saved = structuredClone(trainConfig('quick')) as TrainConfig;
    delete (saved.crops as Partial<TrainConfig['crops']>).colour;
    expect(completeConfig(saved).crops.colour).toEqual(REFERENCE_COLOUR);
  });
});

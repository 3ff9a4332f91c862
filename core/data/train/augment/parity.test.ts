// One line per op against torchvision 0.14's functional ops on float tensors, with fixed parameters
// (fixtures written by scripts/fixtures/augment_fixtures.py). Tolerance 1e-5, resizes 1e-4.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gaussianBlur } from './blur.js';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, colorJitter } from './color-jitter.js';
import { hflip, rot90, vflip } from './flip.js';
import { grayscale } from './grayscale.js';
import { hedJitter } from './hed.js';
import { type ChwImage, chwImage } from './image.js';
import { normalizeInto } from './normalize.js';
import { resizedCrop } from './resized-crop.js';
import { solarize } from './solarize.js';

interface Case {
  name: string;
  op: string;
  params: Record<string, number | number[]>;
  input: string;
  outShape: number[];
  y: number[];
}
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/augment.json', import.meta.url)), 'utf8')) as {
  inputs: Record<string, { shape: number[]; data: number[] }>;
  cases: Case[];
};

function input(c: Case): ChwImage {
  const { shape, data } = fixture.inputs[c.input];
  return chwImage(shape[1], shape[2], Float32Array.from(data));
}

function normalized(img: ChwImage): Float32Array {
  const out = new Float32Array(img.data.length);
  normalizeInto(img, out);
  return out;
}

function run(c: Case): { data: Float32Array; shape: number[] } {
  const p = c.params as Record<string, number>;
  const arr = (k: string): [number, number, number] => c.params[k] as [number, number, number];
  const x = input(c);
  const img = (y: ChwImage): { data: Float32Array; shape: number[] } => ({ data: y.data, shape: [3, y.height, y.width] });
  switch (c.op) {
    case 'resized_crop':
      return img(resizedCrop(x, { top: p.top, left: p.left, height: p.height, width: p.width }, p.outH, p.outW));
    case 'hflip':
      return img(hflip(x));
    case 'vflip':
      return img(vflip(x));
    case 'rot90':
      return img(rot90(x, p.k));
    case 'brightness':
      return img(adjustBrightness(x, p.factor));
    case 'contrast':
      return img(adjustContrast(x, p.factor));
    case 'saturation':
      return img(adjustSaturation(x, p.factor));
    case 'hue':
      return img(adjustHue(x, p.factor));
    case 'grayscale':
      return img(grayscale(x));
    case 'blur':
      return img(gaussianBlur(x, p.sigma, p.size));
    case 'solarize':
      return img(solarize(x));
    case 'normalize':
      return { data: normalized(x), shape: [3, x.height, x.width] };
    case 'hed':
      return img(hedJitter(x, { alpha: arr('alpha'), beta: arr('beta') }));
    case 'pipeline': {
      let y = resizedCrop(x, { top: p.top, left: p.left, height: p.height, width: p.width }, p.outH, p.outW);
      y = hflip(y);
      colorJitter(y, {
        order: c.params.order as number[],
        brightness: p.brightness,
        contrast: p.contrast,
        saturation: p.saturation,
        hue: p.hue,
      });
      grayscale(y);
      y = solarize(gaussianBlur(y, p.sigma));
      return { data: normalized(y), shape: [3, y.height, y.width] };
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('augmentations against torchvision', () => {
  it('covers every op', () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    for (const op of [
      'resized_crop',
      'hflip',
      'vflip',
      'rot90',
      'brightness',
      'contrast',
      'saturation',
      'hue',
      'grayscale',
      'blur',
      'solarize',
      'normalize',
      'hed',
      'pipeline',
    ]) {
      expect(ops.has(op)).toBe(true);
    }
  });
  for (const c of fixture.cases) {
    const tol = c.op === 'resized_crop' || c.op === 'pipeline' ? 1e-4 : 1e-5;
    it(`${c.name} to ${tol}`, () => {
      const y = run(c);
      expect(y.shape).toEqual(c.outShape);
      expect(y.data.length).toBe(c.y.length);
      expect(maxAbsDiff(y.data, c.y)).toBeLessThan(tol);
    });
  }
});

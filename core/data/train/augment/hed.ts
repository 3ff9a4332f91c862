// HED stain jitter (Tellez et al., "Whole-slide mitosis detection in H&E breast histology using PHH3 as a
// reference to train distilled stain-invariant convolutional networks", 2018): colour deconvolution with the
// Ruifrok–Johnston haematoxylin/eosin/DAB matrix (as scikit-image's rgb2hed), each stain concentration
// perturbed as s' = α·s + β with α ~ U(1−σ, 1+σ), β ~ U(−σ, σ) per channel, and back to RGB.
import type { Rng } from '../random.js';
import type { ChwImage } from './image.js';

/** Rows: the optical-density colour of haematoxylin, eosin and DAB (Ruifrok & Johnston 2001). */
export const RGB_FROM_HED: readonly (readonly [number, number, number])[] = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

export const HED_FROM_RGB: readonly (readonly number[])[] = invert3(RGB_FROM_HED);

/** Per-stain scale α and shift β. */
export interface HedParams {
  alpha: [number, number, number];
  beta: [number, number, number];
}

export function sampleHed(rng: Rng, sigma = 0.05): HedParams {
  const a = (): number => rng.uniform(1 - sigma, 1 + sigma);
  const b = (): number => rng.uniform(-sigma, sigma);
  return { alpha: [a(), a(), a()], beta: [b(), b(), b()] };
}

// Optical density per scikit-image: od = log(max(x, 1e-6)) / log(1e-6), so white is 0 and 1e-6 is 1.
const LOG_ADJUST = Math.log(1e-6);

/** In place; returns `img`. Stains are clipped at 0 after deconvolution (as rgb2hed) and RGB at [0, 1]. */
export function hedJitter(img: ChwImage, p: HedParams): ChwImage {
  const plane = img.height * img.width;
  const d = img.data;
  const inv = HED_FROM_RGB;
  const fwd = RGB_FROM_HED;
  for (let i = 0; i < plane; i++) {
    const od = [0, 1, 2].map((c) => Math.log(Math.max(d[c * plane + i], 1e-6)) / LOG_ADJUST); // (3,) optical density
    const stain = [0, 0, 0];
    for (let s = 0; s < 3; s++) {
      const conc = Math.max(od[0] * inv[0][s] + od[1] * inv[1][s] + od[2] * inv[2][s], 0); // row vector · HED_FROM_RGB
      stain[s] = conc * p.alpha[s] + p.beta[s];
    }
    for (let c = 0; c < 3; c++) {
      const logRgb = (stain[0] * fwd[0][c] + stain[1] * fwd[1][c] + stain[2] * fwd[2][c]) * LOG_ADJUST; // stains · RGB_FROM_HED
      d[c * plane + i] = Math.min(Math.max(Math.exp(logRgb), 0), 1);
    }
  }
  return img;
}

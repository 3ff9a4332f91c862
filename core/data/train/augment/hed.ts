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
  const [[i00, i01, i02], [i10, i11, i12], [i20, i21, i22]] = HED_FROM_RGB;
  const [[f00, f01, f02], [f10, f11, f12], [f20, f21, f22]] = RGB_FROM_HED;
  const [a0, a1, a2] = p.alpha;
  const [b0, b1, b2] = p.beta;
  const inv = 1 / LOG_ADJUST;
  for (let i = 0; i < plane; i++) {
    // Optical density (3,), then stains = od · HED_FROM_RGB clipped at 0, then s' = α·s + β.
    const o0 = Math.log(Math.max(d[i], 1e-6)) * inv;
    const o1 = Math.log(Math.max(d[plane + i], 1e-6)) * inv;
    const o2 = Math.log(Math.max(d[2 * plane + i], 1e-6)) * inv;
    const s0 = Math.max(o0 * i00 + o1 * i10 + o2 * i20, 0) * a0 + b0;
    const s1 = Math.max(o0 * i01 + o1 * i11 + o2 * i21, 0) * a1 + b1;
    const s2 = Math.max(o0 * i02 + o1 * i12 + o2 * i22, 0) * a2 + b2;
    // RGB = exp((stains · RGB_FROM_HED) · log 1e-6), clipped to [0, 1].
    d[i] = Math.min(Math.exp((s0 * f00 + s1 * f10 + s2 * f20) * LOG_ADJUST), 1);
    d[plane + i] = Math.min(Math.exp((s0 * f01 + s1 * f11 + s2 * f21) * LOG_ADJUST), 1);
    d[2 * plane + i] = Math.min(Math.exp((s0 * f02 + s1 * f12 + s2 * f22) * LOG_ADJUST), 1);
  }
  return img;
}

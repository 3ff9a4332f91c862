// ColorJitter(brightness, contrast, saturation, hue) with torchvision's float-tensor semantics
// (torchvision/transforms/functional_tensor.py): each op blends with a reference image and clamps to [0, 1];
// the four ops run in a random order (torch.randperm(4)), each with its own factor.
import type { Rng } from '../random.js';
import { luma } from './grayscale.js';
import type { ChwImage } from './image.js';

/** _blend: clamp(ratio · img + (1 − ratio) · other, 0, 1), in place. `other` is a scalar or an (H, W) plane shared by all channels. */
function blend(img: ChwImage, ratio: number, other: number | Float32Array): ChwImage {
  const plane = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const o = typeof other === 'number' ? other : other[i];
      const v = ratio * d[c * plane + i] + (1 - ratio) * o;
      d[c * plane + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return img;
}

/** F.adjust_brightness: blend with black. */
export function adjustBrightness(img: ChwImage, factor: number): ChwImage {
  return blend(img, factor, 0);
}

/** F.adjust_contrast: blend with the mean of the grayscale image. */
export function adjustContrast(img: ChwImage, factor: number): ChwImage {
  const l = luma(img);
  let sum = 0;
  for (let i = 0; i < l.length; i++) sum += l[i];
  return blend(img, factor, sum / l.length);
}

/** F.adjust_saturation: blend with the grayscale image. */
export function adjustSaturation(img: ChwImage, factor: number): ChwImage {
  return blend(img, factor, luma(img));
}

const f32 = Math.fround;

/** F.adjust_hue: RGB → HSV (torchvision's _rgb2hsv), h ← (h + factor) mod 1, HSV → RGB (_hsv2rgb); factor in [−0.5, 0.5]. */
export function adjustHue(img: ChwImage, factor: number): ChwImage {
  if (!(factor >= -0.5 && factor <= 0.5)) throw new RangeError(`adjustHue: factor ${factor} is not in [-0.5, 0.5]`);
  const plane = img.height * img.width;
  const d = img.data;
  for (let i = 0; i < plane; i++) {
    const r = d[i];
    const g = d[plane + i];
    const b = d[2 * plane + i];
    // _rgb2hsv
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eqc = maxc === minc;
    const cr = f32(maxc - minc);
    const s = f32(cr / (eqc ? 1 : maxc));
    const div = eqc ? 1 : cr;
    const rc = f32(f32(maxc - r) / div);
    const gc = f32(f32(maxc - g) / div);
    const bc = f32(f32(maxc - b) / div);
    let h: number;
    if (maxc === r) h = f32(bc - gc);
    else if (maxc === g) h = f32(f32(2 + rc) - bc);
    else h = f32(f32(4 + gc) - rc);
    h = f32(f32(f32(h / 6) + 1) % 1); // torch.fmod(h / 6 + 1, 1)
    // shift: Python-style modulo (result in [0, 1))
    h = f32(h + factor);
    h = f32(h - Math.floor(h));
    // _hsv2rgb
    const v = maxc;
    const h6 = f32(h * 6);
    const iFloor = Math.floor(h6);
    const f = f32(h6 - iFloor);
    const p = Math.min(Math.max(f32(v * f32(1 - s)), 0), 1);
    const q = Math.min(Math.max(f32(v * f32(1 - f32(s * f))), 0), 1);
    const t = Math.min(Math.max(f32(v * f32(1 - f32(s * f32(1 - f)))), 0), 1);
    const sector = ((iFloor % 6) + 6) % 6;
    let ro: number, go: number, bo: number;
    switch (sector) {
      case 0:
        [ro, go, bo] = [v, t, p];
        break;
      case 1:
        [ro, go, bo] = [q, v, p];
        break;
      case 2:
        [ro, go, bo] = [p, v, t];
        break;
      case 3:
        [ro, go, bo] = [p, q, v];
        break;
      case 4:
        [ro, go, bo] = [t, p, v];
        break;
      default:
        [ro, go, bo] = [v, p, q];
    }
    d[i] = ro;
    d[plane + i] = go;
    d[2 * plane + i] = bo;
  }
  return img;
}

/** Factors and order of one ColorJitter draw (ColorJitter.get_params). */
export interface JitterParams {
  /** Indices into [brightness, contrast, saturation, hue], in the order they are applied. */
  order: number[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

export interface JitterStrength {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** The reference strengths: ColorJitter(0.4, 0.4, 0.2, 0.1). */
export const DINO_JITTER: JitterStrength = { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 };

/** ColorJitter.get_params: a random order and factors U(max(0, 1 − s), 1 + s) (hue U(−s, s)). */
export function sampleJitter(rng: Rng, s: JitterStrength = DINO_JITTER): JitterParams {
  const order = rng.permutation(4);
  return {
    order,
    brightness: rng.uniform(Math.max(0, 1 - s.brightness), 1 + s.brightness),
    contrast: rng.uniform(Math.max(0, 1 - s.contrast), 1 + s.contrast),
    saturation: rng.uniform(Math.max(0, 1 - s.saturation), 1 + s.saturation),
    hue: rng.uniform(-s.hue, s.hue),
  };
}

/** Applies one ColorJitter draw in place; returns `img`. */
export function colorJitter(img: ChwImage, p: JitterParams): ChwImage {
  for (const op of p.order) {
    if (op === 0) adjustBrightness(img, p.brightness);
    else if (op === 1) adjustContrast(img, p.contrast);
    else if (op === 2) adjustSaturation(img, p.saturation);
    else adjustHue(img, p.hue);
  }
  return img;
}

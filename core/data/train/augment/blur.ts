// F.gaussian_blur(img, [k, k], [σ, σ]) on float images: kernel from linspace(−(k−1)/2, (k−1)/2, k),
// exp(−x²/2σ²) normalised, reflect padding of k//2 (the edge pixel is not repeated), applied separably.
import { type ChwImage, channelsOf } from './image.js';

/** torchvision's _get_gaussian_kernel1d. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  const half = (size - 1) / 2;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = -half + i;
    k[i] = Math.exp(-0.5 * (x / sigma) ** 2);
    sum += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** Reflect an index into [0, n) without repeating the edge (torch 'reflect' padding). */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/**
 * Gaussian blur of a (C, H, W) image with an odd `size` kernel; returns a new image. H and W must exceed
 * size//2. Separable (vertical then horizontal pass); the kernel is symmetric, so taps ±t share a multiply.
 */
export function gaussianBlur(img: ChwImage, sigma: number, size = 9): ChwImage {
  const { height: h, width: w } = img;
  const r = size >> 1;
  if (size % 2 !== 1 || h <= r || w <= r)
    throw new RangeError(`gaussianBlur: kernel ${size} needs an odd size and an image larger than ${r} px, got ${w}×${h}`);
  const k = gaussianKernel(size, sigma);
  const k0 = k[r];
  const d = img.data;
  const out = new Float32Array(d.length);
  const rowIdx = Int32Array.from({ length: h + 2 * r }, (_, i) => reflect(i - r, h));
  const colIdx = Int32Array.from({ length: w + 2 * r }, (_, i) => reflect(i - r, w));
  const tmp = new Float32Array(h * w); // (H, W) after the vertical pass
  const padded = new Float32Array(w + 2 * r); // one reflect-padded row (W + 2r,)
  const C = channelsOf(img);
  for (let c = 0; c < C; c++) {
    const src = c * h * w;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      const centre = src + rowIdx[y + r] * w;
      for (let x = 0; x < w; x++) tmp[row + x] = k0 * d[centre + x];
      for (let t = 1; t <= r; t++) {
        const kt = k[r + t];
        const up = src + rowIdx[y + r - t] * w;
        const down = src + rowIdx[y + r + t] * w;
        for (let x = 0; x < w; x++) tmp[row + x] += kt * (d[up + x] + d[down + x]);
      }
    }
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w + 2 * r; x++) padded[x] = tmp[row + colIdx[x]];
      for (let x = 0; x < w; x++) {
        let s = k0 * padded[x + r];
        for (let t = 1; t <= r; t++) s += k[r + t] * (padded[x + r - t] + padded[x + r + t]);
        out[src + row + x] = s;
      }
    }
  }
  return { data: out, height: h, width: w };
}

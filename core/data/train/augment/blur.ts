// F.gaussian_blur(img, [k, k], [σ, σ]) on float images: kernel from linspace(−(k−1)/2, (k−1)/2, k),
// exp(−x²/2σ²) normalised, reflect padding of k//2 (the edge pixel is not repeated), applied separably.
import type { ChwImage } from './image.js';

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

/** Gaussian blur of a (3, H, W) image with an odd `size` kernel; returns a new image. H and W must exceed size//2. */
export function gaussianBlur(img: ChwImage, sigma: number, size = 9): ChwImage {
  const { height: h, width: w } = img;
  const r = size >> 1;
  if (size % 2 !== 1 || h <= r || w <= r) throw new RangeError(`gaussianBlur: kernel ${size} needs an odd size and an image larger than ${r} px, got ${w}×${h}`);
  const k = gaussianKernel(size, sigma);
  const tmp = new Float64Array(h * w); // (H, W) after the vertical pass
  const out = new Float32Array(img.data.length);
  const rowIdx = Int32Array.from({ length: h + 2 * r }, (_, i) => reflect(i - r, h));
  const colIdx = Int32Array.from({ length: w + 2 * r }, (_, i) => reflect(i - r, w));
  const padded = new Float64Array(w + 2 * r);
  for (let c = 0; c < 3; c++) {
    const src = img.data.subarray(c * h * w, (c + 1) * h * w);
    tmp.fill(0);
    for (let y = 0; y < h; y++) {
      for (let t = 0; t < size; t++) {
        const wt = k[t];
        const srow = rowIdx[y + t] * w;
        for (let x = 0; x < w; x++) tmp[y * w + x] += wt * src[srow + x];
      }
    }
    const dst = out.subarray(c * h * w, (c + 1) * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w + 2 * r; x++) padded[x] = tmp[y * w + colIdx[x]]; // one reflect-padded row (W + 2r,)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let t = 0; t < size; t++) s += k[t] * padded[x + t];
        dst[y * w + x] = s;
      }
    }
  }
  return { data: out, height: h, width: w };
}

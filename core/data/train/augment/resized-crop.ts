// RandomResizedCrop with torchvision semantics (transforms.RandomResizedCrop.get_params, F.resized_crop):
// area fraction U(scale), aspect ratio log-uniform in `ratio`, ten tries, then the centre crop clamped to
// the ratio range. Resampling is bicubic with antialias=True on float tensors, i.e. PyTorch's
// _upsample_bicubic2d_aa (cubic a = −0.5, support widened when downsampling) — the matrices come from
// core/graph/resample.ts, applied here through their non-zero band.
import { resampleMatrix } from '../../../graph/resample.js';
import type { Rng } from '../random.js';
import { type ChwImage, channelsOf, chwImage } from './image.js';

/** A crop rectangle in pixels: rows top … top+height−1, columns left … left+width−1. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Python's round(): half to even (torchvision's get_params uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** transforms.RandomResizedCrop.get_params for an image of (height, width). */
export function sampleCropBox(
  rng: Rng,
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: the central crop, clamped to the ratio range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** One axis of a resampling matrix as bands: output o reads inputs start[o] … start[o]+len[o]−1 with weights w[off[o] …]. */
interface Bands {
  start: Int32Array;
  len: Int32Array;
  off: Int32Array;
  /** All rows' non-zero weights, concatenated (float32, as PyTorch computes them for float images). */
  w: Float32Array;
}

const bandCache = new Map<string, Bands>();

/** The antialiased bicubic matrix (out × in) for one axis, kept as its non-zero band per row (cached). */
function bicubicBands(inSize: number, outSize: number): Bands {
  const key = `${inSize}:${outSize}`;
  const hit = bandCache.get(key);
  if (hit) return hit;
  const m = resampleMatrix(inSize, outSize, { mode: 'bicubic', antialias: true }); // (out, in)
  const start = new Int32Array(outSize);
  const len = new Int32Array(outSize);
  const off = new Int32Array(outSize);
  const weights: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    let first = 0;
    while (first < inSize - 1 && m[row + first] === 0) first++;
    let last = inSize - 1;
    while (last > first && m[row + last] === 0) last--;
    start[o] = first;
    len[o] = last - first + 1;
    off[o] = weights.length;
    for (let i = first; i <= last; i++) weights.push(m[row + i]);
  }
  const bands = { start, len, off, w: Float32Array.from(weights) };
  if (bandCache.size > 512) bandCache.clear();
  bandCache.set(key, bands);
  return bands;
}

/** F.resized_crop(img, top, left, h, w, [outH, outW], BICUBIC, antialias=True) on a (C, H, W) float image. */
export function resizedCrop(img: ChwImage, box: CropBox, outH: number, outW: number): ChwImage {
  const { top, left, height: h, width: w } = box;
  if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > img.height || left + w > img.width) {
    throw new RangeError(`resizedCrop: box ${JSON.stringify(box)} is outside the ${img.width}×${img.height} image`);
  }
  const rows = bicubicBands(h, outH); // (outH, h)
  const cols = bicubicBands(w, outW); // (outW, w)
  const W = img.width;
  const inPlane = img.height * W;
  const src = img.data;
  const tmp = new Float32Array(outH * w); // one channel: (outH, w) = Mh · crop
  const C = channelsOf(img);
  const out = chwImage(outH, outW, undefined, C);
  for (let c = 0; c < C; c++) {
    tmp.fill(0);
    for (let o = 0; o < outH; o++) {
      const n = rows.len[o];
      const off = rows.off[o];
      const r0 = top + rows.start[o];
      const dst = o * w;
      for (let k = 0; k < n; k++) {
        const wt = rows.w[off + k];
        const base = c * inPlane + (r0 + k) * W + left;
        for (let x = 0; x < w; x++) tmp[dst + x] += wt * src[base + x];
      }
    }
    // (outH, outW) = tmp · Mwᵀ
    const dstPlane = c * outH * outW;
    for (let o = 0; o < outH; o++) {
      const rowOff = o * w;
      for (let p = 0; p < outW; p++) {
        const n = cols.len[p];
        const off = cols.off[p];
        const c0 = rowOff + cols.start[p];
        let s = 0;
        for (let k = 0; k < n; k++) s += cols.w[off + k] * tmp[c0 + k];
        out.data[dstPlane + o * outW + p] = s;
      }
    }
  }
  return out;
}

// RandomResizedCrop with torchvision semantics (transforms.RandomResizedCrop.get_params, F.resized_crop):
// area fraction U(scale), aspect ratio log-uniform in `ratio`, ten tries, then the centre crop clamped to
// the ratio range. Resampling is bicubic with antialias=True on float tensors, i.e. PyTorch's
// _upsample_bicubic2d_aa (cubic a = −0.5, support widened when downsampling) — the matrices come from
// core/graph/resample.ts, applied here through their non-zero band.
import { resampleMatrix } from '../../../graph/resample.js';
import type { Rng } from '../random.js';
import { type ChwImage, chwImage } from './image.js';

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
export function sampleCropBox(rng: Rng, height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number] = [3 / 4, 4 / 3]): CropBox {
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

/** One axis of a resampling matrix as bands: output o reads inputs start[o] … start[o]+taps[o].length−1. */
interface Bands {
  start: Int32Array;
  taps: Float64Array[];
}

const bandCache = new Map<string, Bands>();

/** The antialiased bicubic matrix (out × in) for one axis, kept as its non-zero band per row (cached). */
function bicubicBands(inSize: number, outSize: number): Bands {
  const key = `${inSize}:${outSize}`;
  const hit = bandCache.get(key);
  if (hit) return hit;
  const m = resampleMatrix(inSize, outSize, { mode: 'bicubic', antialias: true }); // (out, in)
  const start = new Int32Array(outSize);
  const taps: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const row = m.subarray(o * inSize, (o + 1) * inSize);
    let first = 0;
    while (first < inSize - 1 && row[first] === 0) first++;
    let last = inSize - 1;
    while (last > first && row[last] === 0) last--;
    start[o] = first;
    taps.push(row.slice(first, last + 1));
  }
  const bands = { start, taps };
  if (bandCache.size > 256) bandCache.clear();
  bandCache.set(key, bands);
  return bands;
}

/** F.resized_crop(img, top, left, h, w, [outH, outW], BICUBIC, antialias=True) on a (3, H, W) float image. */
export function resizedCrop(img: ChwImage, box: CropBox, outH: number, outW: number): ChwImage {
  const { top, left, height: h, width: w } = box;
  if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > img.height || left + w > img.width) {
    throw new RangeError(`resizedCrop: box ${JSON.stringify(box)} is outside the ${img.width}×${img.height} image`);
  }
  const rows = bicubicBands(h, outH); // (outH, h)
  const cols = bicubicBands(w, outW); // (outW, w)
  const inPlane = img.height * img.width;
  const tmp = new Float64Array(outH * w); // one channel: (outH, w) = Mh · crop
  const out = chwImage(outH, outW);
  for (let c = 0; c < 3; c++) {
    const src = img.data.subarray(c * inPlane, (c + 1) * inPlane);
    tmp.fill(0);
    for (let o = 0; o < outH; o++) {
      const taps = rows.taps[o];
      const r0 = top + rows.start[o];
      const dst = o * w;
      for (let k = 0; k < taps.length; k++) {
        const wt = taps[k];
        const base = (r0 + k) * img.width + left;
        for (let x = 0; x < w; x++) tmp[dst + x] += wt * src[base + x];
      }
    }
    // (outH, outW) = tmp · Mwᵀ
    const dstPlane = out.data.subarray(c * outH * outW, (c + 1) * outH * outW);
    for (let o = 0; o < outH; o++) {
      const rowOff = o * w;
      for (let p = 0; p < outW; p++) {
        const taps = cols.taps[p];
        const c0 = rowOff + cols.start[p];
        let s = 0;
        for (let k = 0; k < taps.length; k++) s += taps[k] * tmp[c0 + k];
        dstPlane[o * outW + p] = s;
      }
    }
  }
  return out;
}

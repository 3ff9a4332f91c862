// Exact 1-D resampling matrices with PyTorch's `F.interpolate` semantics (align_corners=False).
//
// A 2-D resize of X [.., H, W] to [.., outH, outW] is Y = Mh · X · Mwᵀ, where Mh is (outH × H) and Mw is
// (outW × W): two MatMuls, so it is exact and differentiable in any graph. Each matrix is returned as a
// dense Float64Array in row-major order (out × in): row o holds the weights output o gives each input.
//
// Semantics reproduced (PyTorch 1.13, aten/src/ATen/native/UpSample.h and cpu/UpSampleKernel.cpp):
// - `scale`: PyTorch's `scale_factor` with recompute_scale_factor unset. The source-coordinate formula then
//   uses 1/scale rather than in/out; DINOv2 relies on this with scale = (out + 0.1) / in.
// - bicubic: Keys' cubic with a = −0.75, four taps, out-of-range taps clamped to the border.
// - bilinear: two taps, source coordinate clamped at 0, the right tap clamped to the border.
// - antialias (PyTorch's _upsample_{bicubic,bilinear}2d_aa): a = −0.5 cubic or the triangle filter,
//   support widened by the scale when downsampling, taps outside the input dropped, weights normalised.

import { type Graph } from './graph.js';
import { matmul } from './ops/linalg.js';
import { type Tensor, hostTensor } from './tensor.js';

export type ResampleMode = 'bicubic' | 'bilinear';

export interface ResampleOptions {
  mode: ResampleMode;
  /** PyTorch's `antialias=True` variant. Default false. */
  antialias?: boolean;
  /** PyTorch's `scale_factor` (output/input) for this axis; when absent, the scale is out/in (`size=`). */
  scale?: number;
}

/** The output length PyTorch gives for `scale_factor` along an axis of length `inSize`: floor(in · scale). */
export function outputSizeForScale(inSize: number, scale: number): number {
  return Math.floor(inSize * scale);
}

/** DINOv2's position-embedding scale factor: (out + offset) / in, offset 0.1 to dodge floating-point floor errors. */
export function dinoScaleFactor(inSize: number, outSize: number, offset = 0.1): number {
  return (outSize + offset) / inSize;
}

/** The dense (outSize × inSize) row-major interpolation matrix for one axis. */
export function resampleMatrix(inSize: number, outSize: number, opts: ResampleOptions): Float64Array {
  checkSize('input', inSize);
  checkSize('output', outSize);
  if (opts.scale !== undefined && !(opts.scale > 0 && Number.isFinite(opts.scale))) {
    throw new RangeError(`resample: scale must be a positive finite number, got ${opts.scale}`);
  }
  // PyTorch derives the output length from the scale factor; any other length would not be its result.
  if (opts.scale !== undefined && outputSizeForScale(inSize, opts.scale) !== outSize) {
    throw new RangeError(`resample: scale ${opts.scale} maps ${inSize} to ${outputSizeForScale(inSize, opts.scale)}, not ${outSize}`);
  }
  // Input pixels per output pixel (area_pixel_compute_scale with align_corners=False).
  const step = opts.scale !== undefined ? 1 / opts.scale : inSize / outSize;
  const m = new Float64Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const row = m.subarray(o * inSize, (o + 1) * inSize);
    if (opts.antialias) antialiasRow(row, o, inSize, step, opts.mode);
    else if (opts.mode === 'bicubic') bicubicRow(row, o, inSize, step);
    else bilinearRow(row, o, inSize, step);
  }
  return m;
}

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`resample: ${what} size must be a positive integer, got ${n}`);
}

function clampIndex(i: number, n: number): number {
  return Math.min(Math.max(i, 0), n - 1);
}

// Keys' cubic convolution kernel, |x| ≤ 1 branch and 1 < |x| < 2 branch (PyTorch's cubic_convolution1/2).
function cubicNear(x: number, a: number): number {
  return ((a + 2) * x - (a + 3)) * x * x + 1;
}
function cubicFar(x: number, a: number): number {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

/** upsample_bicubic2d: taps floor(src)−1 … floor(src)+2, weights from the fractional part, indices clamped. */
function bicubicRow(row: Float64Array, o: number, inSize: number, step: number): void {
  const a = -0.75;
  const src = step * (o + 0.5) - 0.5; // cubic: not clamped at 0
  const i0 = Math.floor(src);
  const t = src - i0;
  const w = [cubicFar(t + 1, a), cubicNear(t, a), cubicNear(1 - t, a), cubicFar(2 - t, a)];
  for (let k = 0; k < 4; k++) row[clampIndex(i0 - 1 + k, inSize)] += w[k];
}

/** upsample_bilinear2d: source clamped at 0, the right tap falls back onto the left one at the last pixel. */
function bilinearRow(row: Float64Array, o: number, inSize: number, step: number): void {
  const src = Math.max(step * (o + 0.5) - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const lambda = Math.min(Math.max(src - i0, 0), 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  row[i0] += 1 - lambda;
  row[i1] += lambda;
}

// PyTorch's antialias filters: the triangle, and Keys' cubic with a = −0.5.
function triangleFilter(x: number): number {
  const ax = Math.abs(x);
  return ax < 1 ? 1 - ax : 0;
}
function cubicFilterAA(x: number): number {
  const a = -0.5;
  const ax = Math.abs(x);
  if (ax < 1) return cubicNear(ax, a);
  if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0;
}

/** _compute_weights_aa: a filter of half-width `support` centred on the output pixel, clipped and normalised. */
function antialiasRow(row: Float64Array, o: number, inSize: number, step: number, mode: ResampleMode): void {
  const interpSize = mode === 'bicubic' ? 4 : 2;
  const filter = mode === 'bicubic' ? cubicFilterAA : triangleFilter;
  // Downsampling (step ≥ 1) stretches the filter over `step` input pixels per output pixel.
  const support = step >= 1 ? interpSize * 0.5 * step : interpSize * 0.5;
  const invStep = step >= 1 ? 1 / step : 1;
  const center = step * (o + 0.5);
  // Math.trunc mirrors C++'s static_cast<int64_t> (rounds toward zero).
  const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
  const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
  let total = 0;
  for (let j = 0; j < xsize; j++) {
    const w = filter((j + xmin - center + 0.5) * invStep);
    row[xmin + j] = w;
    total += w;
  }
  if (total !== 0) for (let j = 0; j < xsize; j++) row[xmin + j] /= total;
}

/** Y = Mh · X · Mwᵀ on one plane X (h × w, row-major), in float64: the reference the graph helper must match. */
export function resizePlane(
  x: Float64Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  optsH: ResampleOptions,
  optsW: ResampleOptions = optsH,
): Float64Array {
  if (x.length !== h * w) throw new RangeError(`resizePlane: expected ${h * w} values, got ${x.length}`);
  const mh = resampleMatrix(h, outH, optsH); // (outH, h)
  const mw = resampleMatrix(w, outW, optsW); // (outW, w)
  const tmp = new Float64Array(outH * w); // (outH, w) = Mh · X
  for (let o = 0; o < outH; o++) {
    for (let i = 0; i < h; i++) {
      const c = mh[o * h + i];
      if (c === 0) continue;
      for (let j = 0; j < w; j++) tmp[o * w + j] += c * x[i * w + j];
    }
  }
  const y = new Float64Array(outH * outW); // (outH, outW) = tmp · Mwᵀ
  for (let o = 0; o < outH; o++) {
    for (let p = 0; p < outW; p++) {
      let s = 0;
      for (let j = 0; j < w; j++) s += tmp[o * w + j] * mw[p * w + j];
      y[o * outW + p] = s;
    }
  }
  return y;
}

export interface Resize2dOptions {
  mode: ResampleMode;
  antialias?: boolean;
  /** PyTorch's `scale_factor` per axis (see ResampleOptions.scale); absent means `size=` semantics. */
  scaleH?: number;
  scaleW?: number;
}

/** The transpose of a row-major (rows × cols) matrix, converted to the graph's float dtype. */
function matrixData(
  m: Float64Array,
  rows: number,
  cols: number,
  transposeIt: boolean,
  dtype: 'float32' | 'float64',
): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(m.length) : new Float64Array(m.length);
  if (!transposeIt) out.set(m);
  else for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/**
 * Resizes x (…, H, W) to (…, outH, outW) in graph `g` as Y = Mh · X · Mwᵀ: two MatMuls with the
 * interpolation matrices as constants, so it is exact (PyTorch's F.interpolate, align_corners=False) and
 * differentiable through the MatMul gradient rule. float32 and float64 only.
 */
export function resize2d(g: Graph, x: Tensor, outH: number, outW: number, opts: Resize2dOptions): Tensor {
  if (x.rank < 2) throw new Error(`resize2d: ${x} needs rank ≥ 2 (…, H, W)`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`resize2d: ${x} must be float32 or float64`);
  if (x.graph !== g) throw new Error(`resize2d: ${x} belongs to another graph`);
  const dtype = x.dtype;
  const [h, w] = x.shape.slice(-2);
  const mh = resampleMatrix(h, outH, { mode: opts.mode, antialias: opts.antialias, scale: opts.scaleH }); // (outH, H)
  const mw = resampleMatrix(w, outW, { mode: opts.mode, antialias: opts.antialias, scale: opts.scaleW }); // (outW, W)
  const tag = `${opts.mode}${opts.antialias ? '_aa' : ''}`;
  const mhT = g.constant(hostTensor(dtype, [outH, h], matrixData(mh, outH, h, false, dtype)), `resize_${tag}_h${h}to${outH}`);
  const mwT = g.constant(hostTensor(dtype, [w, outW], matrixData(mw, outW, w, true, dtype)), `resize_${tag}_w${w}to${outW}_T`);
  const rows = matmul(mhT, x); // (outH, H) @ (…, H, W) → (…, outH, W)
  return matmul(rows, mwT); // (…, outH, W) @ (W, outW) → (…, outH, outW)
}

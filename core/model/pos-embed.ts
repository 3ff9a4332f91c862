// DINOv2's learned position embedding, resized to any patch grid exactly as
// dinov2/models/vision_transformer.py `interpolate_pos_encoding` does:
// pos_embed (1, 1 + M², D) = [CLS entry | M × M patch grid]; the CLS entry is never resized; the grid is
// bicubic-resized (align_corners=False) to (h, w) with one of two variants:
//   'offset'         scale_factor = ((h + 0.1)/M, (w + 0.1)/M), no antialias (models without registers)
//   'size-antialias' size = (h, w), antialias (the _reg hub models, HF)
//   'size'           size = (h, w), no antialias
// and the whole step is skipped when h·w = M² and the image is square (H == W).
// The resize is two MatMuls with PyTorch's exact interpolation matrices (core/graph/resample.ts), so it is
// differentiable and needs no Transpose: Y[o, q, :] = Σ_i Σ_j Mh[o, i] · Mw[q, j] · X[i, j, :].
//
// With symbolic image sizes (a dynamic ONNX export) the grid is known only at run time, so the resize is
// one ONNX Resize computed in the graph, set up to reproduce the same PyTorch calls (checked against the
// matrices in pos-embed.test.ts):
//   'offset'         mode cubic, cubic_coeff_a −0.75, exclude_outside 0, scales (h + 0.1)/M computed from
//                    the grid (1 where PyTorch skips: h = w = M and H = W)
//   'size'           mode cubic, cubic_coeff_a −0.75, exclude_outside 0, sizes (h, w)
//   'size-antialias' mode cubic, cubic_coeff_a −0.5, exclude_outside 1, antialias 1, sizes (h, w): ORT's
//                    antialiased cubic is PyTorch's _upsample_bicubic2d_aa (the same filter support and
//                    normalisation), upsampling included
import { type Graph } from '../graph/graph.js';
import { cast, div, add, equal, greater, where } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/linalg.js';
import { reduceMin } from '../graph/ops/reduce.js';
import { resizeByScales, resizeTo } from '../graph/ops/resize.js';
import { concat, reshape, slice, transpose } from '../graph/ops/shape.js';
import { dinoScaleFactor, resampleMatrix } from '../graph/resample.js';
import { type Dim, dimMul } from '../graph/sym.js';
import { dimsTensor } from '../graph/sym-shape.js';
import { type Tensor, hostTensor } from '../graph/tensor.js';
import { type PosEmbedConfig } from './config.js';

export interface PosEmbedPlan {
  /** true when the learned grid is used as is. */
  skip: boolean;
  /** Row matrix (h × M) and column matrix (w × M), row-major, float64; empty when skipped. */
  mh: Float64Array;
  mw: Float64Array;
}

/** The interpolation matrices for an h × w patch grid (rows, cols) from an image of H × W pixels. */
export function posEmbedPlan(pe: PosEmbedConfig, h: number, w: number, square: boolean): PosEmbedPlan {
  const M = pe.gridSize;
  if (h * w === M * M && square) return { skip: true, mh: new Float64Array(0), mw: new Float64Array(0) };
  const axis = (n: number): Float64Array =>
    pe.variant === 'offset'
      ? resampleMatrix(M, n, { mode: 'bicubic', scale: dinoScaleFactor(M, n, 0.1) })
      : resampleMatrix(M, n, { mode: 'bicubic', antialias: pe.variant === 'size-antialias' });
  return { skip: false, mh: axis(h), mw: axis(w) };
}

export interface PosEmbedTokens {
  /** The CLS entry (1, 1, D). */
  cls: Tensor;
  /** The grid resized to the image, flattened row-major (1, h·w, D). */
  patches: Tensor;
}

/**
 * pos_embed (1, 1 + M², D) resized in the graph with ONNX Resize for a grid h × w known at run time
 * (symbolic dims) from an image H × W. float32 only (onnxruntime's Resize has no double kernel here).
 */
export function posEmbedTokensDynamic(g: Graph, posEmbed: Tensor, pe: PosEmbedConfig, h: Dim, w: Dim, H: Dim, W: Dim): PosEmbedTokens {
  const [, T, D] = posEmbed.shape;
  const M = pe.gridSize;
  if (T !== 1 + M * M) throw new Error(`posEmbed: ${posEmbed} does not hold 1 + ${M}² entries`);
  if (posEmbed.dtype !== 'float32') throw new Error(`posEmbed: the in-graph resize needs float32, got ${posEmbed}`);
  const cls = slice(posEmbed, [1], [0], [1]); // (1, 1, D)
  // Reshapes (not Transposes) right before and after the Resize: onnxruntime cancels Transpose → Resize →
  // inverse Transpose into a channels-last Resize, whose cubic mode refuses to downscale without antialias.
  const grid = reshape(transpose(reshape(slice(posEmbed, [1], [1], [T]), [M * M, D])), [D, 1, M, M]); // (1, M², D) → (M², D) → (D, M²) → (D, 1, M, M)
  let resized: Tensor;
  if (pe.variant === 'offset') {
    const hw = cast(dimsTensor(g, [h, w]), 'float32'); // (2)
    const scales = div(add(hw, 0.1), M); // (2): PyTorch's scale_factor (out + 0.1)/M
    // PyTorch skips the resize when h·w = M² and H = W (then h = w = M): scale 1 is the identity.
    const same = equal(dimsTensor(g, [h, w, H]), dimsTensor(g, [M, M, W])); // (3) bool
    const skip = greater(reduceMin(cast(same, 'float32')), 0.5); // () bool
    const s4 = concat([g.constant(hostTensor('float32', [2], [1, 1]), 'ones2'), where(skip, 1, scales)], 0); // (4)
    resized = resizeByScales(grid, s4, [D, 1, h, w], { mode: 'cubic', cubicCoeffA: -0.75 }); // (D, 1, h, w)
  } else {
    const aa = pe.variant === 'size-antialias';
    resized = resizeTo(
      grid,
      [D, 1, h, w],
      aa ? { mode: 'cubic', cubicCoeffA: -0.5, excludeOutside: true, antialias: true } : { mode: 'cubic', cubicCoeffA: -0.75 },
    ); // (D, 1, h, w)
  }
  const hw = dimMul(h, w);
  const patches = reshape(transpose(reshape(resized, [D, hw])), [1, hw, D]); // (D, 1, h, w) → (D, h·w) → (h·w, D) → (1, h·w, D)
  return { cls, patches };
}

/** Splits and resizes pos_embed (1, 1 + M², D) for an h × w grid. */
export function posEmbedTokens(g: Graph, posEmbed: Tensor, pe: PosEmbedConfig, h: number, w: number, square: boolean): PosEmbedTokens {
  const [, T, D] = posEmbed.shape;
  const M = pe.gridSize;
  if (T !== 1 + M * M) throw new Error(`posEmbed: ${posEmbed} does not hold 1 + ${M}² entries`);
  const cls = slice(posEmbed, [1], [0], [1]); // (1, 1, D)
  const grid = slice(posEmbed, [1], [1], [T]); // (1, M², D)
  const plan = posEmbedPlan(pe, h, w, square);
  if (plan.skip) return { cls, patches: grid };
  const dtype = posEmbed.dtype === 'float64' ? 'float64' : 'float32';
  const data = (m: Float64Array): Float32Array | Float64Array => (dtype === 'float64' ? m : Float32Array.from(m));
  const tag = `${pe.variant}_${M}to${h}x${w}`;
  const mh = g.constant(hostTensor(dtype, [h, M], data(plan.mh)), `pos_embed_rows_${tag}`); // (h, M)
  const mw = g.constant(hostTensor(dtype, [w, M], data(plan.mw)), `pos_embed_cols_${tag}`); // (w, M)
  const rows = matmul(mh, reshape(grid, [M, M * D])); // (h, M) @ (M, M·D) → (h, M·D)
  const cols = matmul(mw, reshape(rows, [h, M, D])); // (w, M) @ (h, M, D) → (h, w, D)
  return { cls, patches: reshape(cols, [1, h * w, D]) }; // (1, h·w, D)
}

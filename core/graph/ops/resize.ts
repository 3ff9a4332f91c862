// ONNX Resize (opset 18+: cubic_coeff_a, exclude_outside, antialias) and Range, for inference graphs whose
// sizes are only known at run time (symbolic dims). Neither has a gradient rule: training graphs resize with
// the exact interpolation matrices of ../resample.ts instead.
import { type Attrs, graphOf } from '../graph.js';
import { type Dim } from '../sym.js';
import { dimScalar, dimsTensor } from '../sym-shape.js';
import { type Tensor } from '../tensor.js';

export interface ResizeOptions {
  mode: 'cubic' | 'linear' | 'nearest';
  /** Keys' cubic coefficient (ONNX default −0.75, PyTorch bicubic −0.75, PyTorch antialiased bicubic −0.5). */
  cubicCoeffA?: number;
  /** Drop taps outside the input and renormalise the rest (default false: taps clamp to the border). */
  excludeOutside?: boolean;
  /** Stretch the filter by the downscaling factor (ONNX `antialias`). */
  antialias?: boolean;
}

function attrsOf(o: ResizeOptions): Attrs {
  const a: Attrs = { mode: { s: o.mode }, coordinate_transformation_mode: { s: 'half_pixel' } };
  if (o.cubicCoeffA !== undefined) a.cubic_coeff_a = { f: o.cubicCoeffA };
  if (o.excludeOutside) a.exclude_outside = { i: 1 };
  if (o.antialias) a.antialias = { i: 1 };
  return a;
}

/** Resizes x to `sizes` (one per axis; align_corners=False coordinates). */
export function resizeTo(x: Tensor, sizes: readonly Dim[], o: ResizeOptions): Tensor {
  if (sizes.length !== x.rank) throw new Error(`Resize: ${sizes.length} sizes for ${x}`);
  const g = graphOf(x);
  return g.op('Resize', [x, null, null, dimsTensor(g, sizes, 'sizes')], attrsOf(o), sizes, x.dtype);
}

/**
 * Resizes x by float32 `scales` (rank,), computed in the graph: ONNX takes the output length ⌊in · scale⌋
 * and maps output o to input (o + 0.5)/scale − 0.5 (PyTorch's scale_factor semantics). `outDims` states
 * the output dims the caller knows the scales give.
 */
export function resizeByScales(x: Tensor, scales: Tensor, outDims: readonly Dim[], o: ResizeOptions): Tensor {
  if (scales.dtype !== 'float32' || scales.rank !== 1 || scales.shape[0] !== x.rank)
    throw new Error(`Resize: scales ${scales} must be float32 (${x.rank})`);
  if (outDims.length !== x.rank) throw new Error(`Resize: ${outDims.length} output dims for ${x}`);
  return graphOf(x).op('Resize', [x, null, scales], attrsOf(o), outDims, x.dtype);
}

/** 0, 1, …, n − 1 as int64 (n may be symbolic). */
export function range(like: Tensor, n: Dim): Tensor {
  const g = graphOf(like);
  return g.op('Range', [g.scalar(0, 'int64'), dimScalar(like, n), g.scalar(1, 'int64')], {}, [n], 'int64');
}

// Data-movement ops: Transpose, Reshape, Unsqueeze/Squeeze (as Reshape), Concat, Split, Slice, Gather,
// Expand, Pad. Static shapes give int64 constants computed here; symbolic dims (../sym.ts) give constants
// where ONNX's 0 (copy) and −1 (infer) can express them, else a shape computed in the graph (../sym-shape.ts).
import { graphOf } from '../graph.js';
import { broadcastShapes, normAxis } from '../shapes.js';
import { type Dim, broadcastDims, dimAdd, dimEq, dimExactDiv, dimProduct, dimSub, fmtDims, isSym } from '../sym.js';
import { dimsTensor } from '../sym-shape.js';
import { type Shape, type Tensor, fmtShape, hostTensor, sizeOf } from '../tensor.js';

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i))
    throw new Error(`Transpose: perm [${p.join(', ')}] is not a permutation for ${x}`);
  if (p.every((v, i) => v === i)) return x;
  return graphOf(x).op(
    'Transpose',
    [x],
    { perm: { ints: [...p] } },
    p.map((a) => x.dims[a]),
    x.dtype,
  );
}

/** Swaps the last two axes. */
export const transposeLast2 = (x: Tensor): Tensor =>
  transpose(
    x,
    [...x.shape.keys()].map((i) => (i === x.rank - 2 ? x.rank - 1 : i === x.rank - 1 ? x.rank - 2 : i)),
  );

/**
 * Swaps the last two axes as a real copy that onnxruntime cannot fold into a following MatMul/Gemm:
 * (…, p, q) → (…·, p, q, 1) → Transpose → (…, q, p). MLAS runs a transposed operand (Gemm transA,
 * FusedMatMul transA) ~1.5× slower than this copy followed by a plain MatMul on this machine.
 */
export function transposeCopy(x: Tensor): Tensor {
  if (x.rank < 2) throw new Error(`Transpose: transposeCopy needs rank ≥ 2, got ${x}`);
  const [p, q] = x.shape.slice(-2);
  const lead = x.shape.slice(0, -2);
  const x4 = reshape(x, [sizeOf(lead), p, q, 1]); // (…·, p, q, 1): the trailing 1 hides the 2-D swap from ORT's fusions
  const t = transpose(x4, [0, 2, 1, 3]); // (…·, q, p, 1)
  return reshape(t, [...lead, q, p]); // (…, q, p)
}

/** Reshape; one -1 is inferred. Symbolic dims (or a symbolic input) take `reshapeSym`. */
export function reshape(x: Tensor, shape: readonly Dim[]): Tensor {
  if (x.symbolic || shape.some(isSym)) return reshapeSym(x, shape);
  const out = [...(shape as number[])];
  const k = out.indexOf(-1);
  if (k >= 0) {
    const rest = sizeOf(out.filter((_, i) => i !== k));
    out[k] = rest === 0 ? 0 : x.size / rest;
  }
  if (!out.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(out) !== x.size)
    throw new Error(`Reshape: cannot reshape ${x} to ${fmtShape(shape as Shape)}`);
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  const g = graphOf(x);
  return g.op('Reshape', [x, g.ints(out, 'shape')], {}, out, x.dtype);
}

/**
 * Reshape with symbolic dims: the target is one int64 constant when every symbolic dim either equals the
 * input's dim at the same axis (ONNX 0 = copy) or is the only other one (−1 = infer); else it is computed
 * in the graph from the inputs' shapes.
 */
function reshapeSym(x: Tensor, shape: readonly Dim[]): Tensor {
  const out = [...shape];
  const total = dimProduct(x.dims);
  const k = out.indexOf(-1);
  if (k >= 0) {
    const inferred = dimExactDiv(total, dimProduct(out.filter((_, i) => i !== k)));
    if (inferred === null) throw new Error(`Reshape: cannot infer -1 reshaping ${x} to ${fmtDims(shape)}`);
    out[k] = inferred;
  }
  // The element counts must agree as polynomials, or (floor atoms: (B, C, ⌊H/2⌋, 2, …) from (B, C, H, …)
  // cannot be proven) at the probe sizes with something symbolic on both sides; onnxruntime checks at run time.
  const count = dimProduct(out);
  const same = dimEq(count, total) || (isSym(count) && isSym(total) && count.probe === total.probe);
  if (!same || out.some((d) => !isSym(d) && !(Number.isInteger(d) && d >= 0)))
    throw new Error(`Reshape: cannot reshape ${x} to ${fmtDims(shape)}`);
  if (out.length === x.rank && out.every((d, i) => dimEq(d, x.dims[i]))) return x;
  const g = graphOf(x);
  const code = out.map((d, i) => (!isSym(d) ? d : i < x.rank && dimEq(d, x.dims[i]) ? 0 : null));
  const free = code.filter((c) => c === null).length;
  const target =
    free <= 1 && !out.includes(0)
      ? g.ints(
          code.map((c) => c ?? -1),
          'shape',
        )
      : dimsTensor(g, out);
  return g.op('Reshape', [x, target], {}, out, x.dtype);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('Unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.dims.slice(0, a), 1, ...x.dims.slice(a)]);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('Squeeze', axis, x.rank);
  if (x.dims[a] !== 1) throw new Error(`Squeeze: axis ${axis} of ${x} is not 1`);
  return reshape(
    x,
    x.dims.filter((_, i) => i !== a),
  );
}

export function flatten(x: Tensor, fromAxis = 0): Tensor {
  const a = normAxis('Flatten', fromAxis, x.rank);
  if (x.symbolic) return reshape(x, [...x.dims.slice(0, a), dimProduct(x.dims.slice(a))]);
  return reshape(x, [...x.shape.slice(0, a), sizeOf(x.shape.slice(a))]);
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('Concat: no inputs');
  if (xs.length === 1) return xs[0];
  const a = normAxis('Concat', axis, xs[0].rank);
  const shape = [...xs[0].dims];
  for (const x of xs.slice(1)) {
    if (x.dtype !== xs[0].dtype || x.rank !== xs[0].rank || x.dims.some((d, i) => i !== a && !dimEq(d, shape[i])))
      throw new Error(`Concat: ${x} does not match ${xs[0]} outside axis ${axis}`);
    shape[a] = dimAdd(shape[a], x.dims[a]);
  }
  return graphOf(xs[0]).op('Concat', [...xs], { axis: { i: a } }, shape, xs[0].dtype);
}

/** Splits along `axis` into pieces of the given sizes (or `n` equal pieces). */
export function split(x: Tensor, sizes: readonly number[] | number, axis: number): Tensor[] {
  const a = normAxis('Split', axis, x.rank);
  if (isSym(x.dims[a])) throw new Error(`Split: axis ${axis} of ${x} is symbolic`);
  const s = typeof sizes === 'number' ? Array.from({ length: sizes }, () => x.shape[a] / sizes) : [...sizes];
  if (!s.every((v) => Number.isInteger(v) && v >= 0) || s.reduce((p, v) => p + v, 0) !== x.shape[a])
    throw new Error(`Split: sizes [${s.join(', ')}] do not split axis ${axis} of ${x}`);
  const g = graphOf(x);
  const node = g.addNode(
    'Split',
    [x, g.ints(s, 'split')],
    { axis: { i: a } },
    s.map((v) => ({ shape: x.dims.map((d, i) => (i === a ? v : d)), dtype: x.dtype })),
  );
  return node.outputs;
}

/**
 * Slice [start, end) with step along each listed axis (negative indices count from the end). On a symbolic
 * axis the start must be a non-negative number and the step 1; the end may be a number (at most the axis
 * length) or a symbolic dim (the axis length itself reads "to the end").
 */
export function slice(
  x: Tensor,
  axes: readonly number[],
  starts: readonly number[],
  ends: readonly Dim[],
  steps?: readonly number[],
): Tensor {
  if (x.symbolic || ends.some(isSym)) return sliceSym(x, axes, starts, ends, steps);
  const g = graphOf(x);
  const st = steps ?? axes.map(() => 1);
  const shape = [...x.shape];
  const ax = axes.map((a) => normAxis('Slice', a, x.rank));
  const s0: number[] = [];
  const e0: number[] = [];
  ax.forEach((a, k) => {
    const d = x.shape[a];
    if (st[k] <= 0) throw new Error(`Slice: only positive steps are supported (axis ${axes[k]})`);
    const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clampIdx(starts[k]);
    const e = Math.max(clampIdx(ends[k] as number), s);
    s0.push(s);
    e0.push(e);
    shape[a] = Math.ceil((e - s) / st[k]);
  });
  return g.op('Slice', [x, g.ints(s0, 'starts'), g.ints(e0, 'ends'), g.ints(ax, 'axes'), g.ints(st, 'steps')], {}, shape, x.dtype);
}

function sliceSym(x: Tensor, axes: readonly number[], starts: readonly number[], ends: readonly Dim[], steps?: readonly number[]): Tensor {
  const g = graphOf(x);
  const shape = [...x.dims];
  const ax = axes.map((a) => normAxis('Slice', a, x.rank));
  const e0: Dim[] = [];
  const s0: number[] = [];
  ax.forEach((a, k) => {
    const d = x.dims[a];
    const step = steps?.[k] ?? 1;
    if (!isSym(d)) {
      if (isSym(ends[k])) throw new Error(`Slice: a symbolic end on the static axis ${a} of ${x}`);
      const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const s = clampIdx(starts[k]);
      const e = Math.max(clampIdx(ends[k] as number), s);
      if (step <= 0) throw new Error(`Slice: only positive steps are supported (axis ${axes[k]})`);
      s0.push(s);
      e0.push(e);
      shape[a] = Math.ceil((e - s) / step);
      return;
    }
    if (step !== 1 || starts[k] < 0) throw new Error(`Slice: the symbolic axis ${a} of ${x} needs a start ≥ 0 and step 1`);
    const end = ends[k];
    s0.push(starts[k]);
    if (dimEq(end, d)) {
      e0.push(Number.MAX_SAFE_INTEGER); // to the end (ONNX clamps)
      shape[a] = dimSub(d, starts[k]);
    } else if (typeof end === 'number' && end < 0) {
      e0.push(end);
      shape[a] = dimSub(dimAdd(d, end), starts[k]);
    } else {
      e0.push(end);
      shape[a] = dimSub(end, starts[k]);
    }
  });
  const st = steps ?? axes.map(() => 1);
  return g.op('Slice', [x, g.ints(s0, 'starts'), dimsTensor(g, e0, 'ends'), g.ints(ax, 'axes'), g.ints(st, 'steps')], {}, shape, x.dtype);
}

/** Gathers along `axis` with int64 `indices` (output: x.shape[:axis] + indices.shape + x.shape[axis+1:]). */
/**
 * int64 indices (idx…) as a column (idx…, 1), the index form of GatherND/ScatterND, for an axis of length
 * `axisLength`. With GraphLowering.indicesViaFloat no int64 Reshape: the column is gathered as float32 and
 * cast to int64 (exact below 2²⁴), so a provider without int64 Reshape (WebGPU) runs it.
 */
export function indexColumn(idx: Tensor, axisLength: number): Tensor {
  const g = graphOf(idx);
  const shape = [...idx.shape, 1];
  if (!g.lowering.indicesViaFloat) return reshape(idx, shape);
  if (axisLength > 2 ** 24)
    throw new Error(
      `indexColumn: indices into an axis of ${axisLength} (over 2^24) are not exact in float32; build without GraphLowering.indicesViaFloat`,
    );
  // Gather from the column of the numbers 0 … axisLength − 1 (float32): its int64 indices are one input
  // WebGPU takes (its Cast does not read int64 in onnxruntime-node 1.30), and the result is the column.
  const numbers = g.constant(
    hostTensor(
      'float32',
      [axisLength, 1],
      Float32Array.from({ length: axisLength }, (_, i) => i),
    ),
  );
  const col = gather(numbers, idx, 0); // (idx…, 1) float32
  return g.op('Cast', [col], { to: { i: 7 } }, col.dims, 'int64');
}

export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  if (indices.dtype !== 'int64') throw new Error(`Gather: indices must be int64, got ${indices}`);
  const a = normAxis('Gather', axis, x.rank);
  const shape = [...x.dims.slice(0, a), ...indices.dims, ...x.dims.slice(a + 1)];
  return graphOf(x).op('Gather', [x, indices], { axis: { i: a } }, shape, x.dtype);
}

/** Broadcasts x to `shape` (ONNX Expand semantics); a symbolic target is computed in the graph. */
export function expand(x: Tensor, shape: readonly Dim[]): Tensor {
  if (x.symbolic || shape.some(isSym)) {
    const outD = broadcastDims('Expand', x.dims, shape);
    if (outD.length === x.rank && outD.every((d, i) => dimEq(d, x.dims[i]))) return x;
    const g = graphOf(x);
    return g.op('Expand', [x, dimsTensor(g, shape)], {}, outD, x.dtype);
  }
  const out = broadcastShapes('Expand', x.shape, shape as Shape);
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  const g = graphOf(x);
  return g.op('Expand', [x, g.ints(shape as Shape, 'shape')], {}, out, x.dtype);
}

/** Constant padding: `pads` = [begin_0, …, begin_{r-1}, end_0, …, end_{r-1}], all ≥ 0. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length !== 2 * x.rank || pads.some((p) => p < 0 || !Number.isInteger(p)))
    throw new Error(`Pad: pads [${pads.join(', ')}] do not fit ${x} (need ${2 * x.rank} non-negative)`);
  const g = graphOf(x);
  const shape = x.dims.map((d, i) => dimAdd(d, pads[i] + pads[i + x.rank]));
  return g.op('Pad', [x, g.ints(pads, 'pads'), g.scalar(value, x.dtype)], { mode: { s: 'constant' } }, shape, x.dtype);
}

/** A tensor of zeros (an expanded scalar constant). */
export function zeros(like: Tensor | { shape: Shape; dtype: Tensor['dtype'] }, g = graphOf(like as Tensor)): Tensor {
  const z = g.scalar(0, like.dtype);
  if (like.shape.length === 0) return z;
  if ('symbolic' in like && like.symbolic) return g.op('Expand', [z, dimsTensor(g, like.dims)], {}, like.dims, like.dtype);
  return g.op('Expand', [z, g.ints(like.shape, 'shape')], {}, like.shape, like.dtype);
}

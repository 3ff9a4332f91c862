// Reductions (ReduceSum/Mean/Max/Min with static axes), ArgMax and TopK. Opset 18+: axes are an input.
import { graphOf } from '../graph.js';
import { normAxis } from '../shapes.js';
import { type Tensor } from '../tensor.js';

export type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin';

function reduce(op: ReduceOp, x: Tensor, axes: readonly number[] | undefined, keepdims: boolean): Tensor {
  const ax = [...new Set((axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(op, a, x.rank)))].sort((a, b) => a - b);
  if (ax.length === 0) return x;
  const shape = keepdims ? x.dims.map((d, i) => (ax.includes(i) ? 1 : d)) : x.dims.filter((_, i) => !ax.includes(i));
  const g = graphOf(x);
  return g.op(op, [x, g.ints(ax, 'axes')], { keepdims: { i: keepdims ? 1 : 0 } }, shape, x.dtype);
}

/** Sum over `axes` (all when omitted). */
export const reduceSum = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);
export const reduceMin = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMin', x, axes, keepdims);

/** Index of the maximum along `axis` (int64, no gradient). */
export function argMax(x: Tensor, axis: number, keepdims = false): Tensor {
  const a = normAxis('ArgMax', axis, x.rank);
  const shape = keepdims ? x.dims.map((d, i) => (i === a ? 1 : d)) : x.dims.filter((_, i) => i !== a);
  return graphOf(x).op('ArgMax', [x], { axis: { i: a }, keepdims: { i: keepdims ? 1 : 0 } }, shape, 'int64');
}

/** The k largest (or smallest) values along `axis` and their int64 indices (no gradient). */
export function topK(x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } {
  const a = normAxis('TopK', axis, x.rank);
  if (k > x.shape[a]) throw new Error(`TopK: k=${k} exceeds axis ${axis} of ${x}`);
  const g = graphOf(x);
  const shape = x.dims.map((d, i) => (i === a ? k : d));
  const node = g.addNode('TopK', [x, g.ints([k], 'k')], { axis: { i: a }, largest: { i: largest ? 1 : 0 }, sorted: { i: 1 } }, [
    { shape, dtype: x.dtype },
    { shape, dtype: 'int64' },
  ]);
  return { values: node.outputs[0], indices: node.outputs[1] };
}

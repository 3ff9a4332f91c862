// Neural-network ops: Softmax, LogSoftmax, LayerNorm (fused in float32), L2 normalisation, attention,
// random masks.
import { type Attrs, graphOf } from '../graph.js';
import { normAxis } from '../shapes.js';
import { type Tensor, fmtShape } from '../tensor.js';
import { add, div, exp, log, maximum, mul, sqrt, sub } from './elementwise.js';
import { matmul } from './linalg.js';
import { reduceMax, reduceMean, reduceSum } from './reduce.js';
import { transposeLast2 } from './shape.js';

export function softmax(x: Tensor, axis = -1): Tensor {
  return graphOf(x).op('Softmax', [x], { axis: { i: normAxis('Softmax', axis, x.rank) } }, x.dims, x.dtype);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const g = graphOf(x);
  const a = normAxis('LogSoftmax', axis, x.rank);
  if (!g.lowering.logSoftmaxPrimitives) return g.op('LogSoftmax', [x], { axis: { i: a } }, x.dims, x.dtype);
  // x − m − log Σ exp(x − m) (GraphLowering.logSoftmaxPrimitives). The result does not depend on the shift
  // m, so no gradient flows through it (its ReduceMax would only add a backward term that sums to zero).
  const m = reduceMax(x, [a], true);
  const max = g.addNode('Identity', [m], {}, [{ shape: m.dims, dtype: m.dtype }]);
  max.stopGrad = true;
  const shifted = sub(x, max.outputs[0]);
  return sub(shifted, log(reduceSum(exp(shifted), [a], true)));
}

/**
 * Layer normalisation over the last axis: (x − mean) / √(var + eps) · gamma + beta.
 * float32/float16: one fused ONNX LayerNormalization node whose Mean and InvStdDev outputs feed the
 * analytic backward (gradients.ts). float64: primitives, since onnxruntime's CPU computes no double
 * statistics.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor | null, eps = 1e-5): Tensor {
  const D = x.shape[x.rank - 1];
  if (gamma.rank !== 1 || gamma.shape[0] !== D || (beta && (beta.rank !== 1 || beta.shape[0] !== D))) {
    throw new Error(`LayerNormalization: gamma/beta must be [${D}] for ${x}, got ${gamma}${beta ? ` and ${beta}` : ''}`);
  }
  const g = graphOf(x);
  if (x.dtype === 'float64') {
    return g.scope('layernorm64', () => {
      const mu = reduceMean(x, [-1], true); // (…, 1)
      const xc = sub(x, mu); // (…, D)
      const v = reduceMean(mul(xc, xc), [-1], true); // (…, 1)
      const y = mul(div(xc, sqrt(add(v, eps))), gamma);
      return beta ? add(y, beta) : y;
    });
  }
  const stat = [...x.dims.slice(0, -1), 1];
  const node = g.addNode('LayerNormalization', beta ? [x, gamma, beta] : [x, gamma], { axis: { i: -1 }, epsilon: { f: eps } }, [
    { shape: x.dims, dtype: x.dtype },
    { shape: stat, dtype: 'float32' }, // Mean (stash type float32)
    { shape: stat, dtype: 'float32' }, // InvStdDev
  ]);
  return node.outputs[0];
}

/** x / max(‖x‖₂, eps) along `axis` (PyTorch's F.normalize). */
export function l2Normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  const norm = sqrt(reduceSum(mul(x, x), [axis], true)); // (…, 1, …)
  return div(x, maximum(norm, eps));
}

/**
 * Scaled dot-product attention from primitives: softmax(q kᵀ · scale) v.
 * q (…, Nq, d), k (…, Nk, d), v (…, Nk, dv) → (…, Nq, dv). The softmax backward is y·(g − Σ g·y).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, scale = 1 / Math.sqrt(q.shape[q.rank - 1])): Tensor {
  if (q.shape[q.rank - 1] !== k.shape[k.rank - 1])
    throw new Error(`attention: q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} differ in head size`);
  const s = matmul(mul(q, scale), transposeLast2(k)); // (…, Nq, Nk)
  return matmul(softmax(s, -1), v); // (…, Nq, dv)
}

/** Uniform random numbers in [0, 1) shaped like `like` (RandomUniformLike; no gradient). */
export function randomUniformLike(like: Tensor, seed?: number): Tensor {
  const attrs: Attrs = { dtype: { i: like.dtype === 'float64' ? 11 : 1 } };
  if (seed !== undefined) attrs.seed = { f: seed };
  return graphOf(like).op('RandomUniformLike', [like], attrs, like.dims, like.dtype === 'float64' ? 'float64' : 'float32');
}

/** A bool mask, true with probability `p`, shaped like `like` (no gradient). */
export function randomMask(like: Tensor, p: number, seed?: number): Tensor {
  const u = randomUniformLike(like, seed);
  return graphOf(like).op('Less', [u, graphOf(like).scalar(p, u.dtype)], {}, like.dims, 'bool');
}

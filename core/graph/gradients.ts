// The gradient table (tinygrad style): one rule per ONNX op type. A rule takes the forward node and the
// upstream gradients of its outputs (null where none flows) and returns one gradient per input (null
// where there is none). Rules build with the same op builders as forward code; autodiff (autodiff.ts)
// calls them inside `g.backward(...)`. Composites (SiLU, L2 normalisation, attention, float64 erf/GELU/
// LayerNorm) have no rule of their own: they are made of primitives that do.
import { type Node, graphOf } from './graph.js';
import { add, cast, div, equal, exp, greater, less, mul, neg, pow, sub, sum, where } from './ops/elementwise.js';
import { gemm, matmul } from './ops/linalg.js';
import { reduceSum } from './ops/reduce.js';
import { concat, expand, indexColumn, pad, reshape, slice, transpose, transposeCopy, transposeLast2, zeros } from './ops/shape.js';
import { type Shape, type Tensor } from './tensor.js';

export type GradRule = (node: Node, gy: (Tensor | null)[]) => (Tensor | null)[];

/** Sums a broadcast gradient back to `shape`: ReduceSum over broadcast axes, then Reshape. */
export function reduceTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const rows = g.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  if (lead > 0 && axes.length === lead && rows >= 64 && (g.dtype === 'float32' || g.dtype === 'float64')) {
    // Summing the leading axes (bias, LayerNorm and LayerScale gradients): a ones-row Gemm, about twice as
    // fast in onnxruntime as ReduceSum over axis 0 of (rows, cols).
    const cols = shape.reduce((a, b) => a * b, 1);
    const ones = graphOf(g).constant(
      { dtype: g.dtype, dims: [1, rows], data: g.dtype === 'float32' ? new Float32Array(rows).fill(1) : new Float64Array(rows).fill(1) },
      'ones',
    );
    return reshape(gemm(ones, reshape(g, [rows, cols]), null), shape); // (1, cols) → shape
  }
  return reshape(axes.length ? reduceSum(g, axes, true) : g, shape);
}

/**
 * aᵀ·g over the last two axes, (…, m, k)ᵀ (…, m, n) → (…, k, n), as a plain MatMul on a transposed copy
 * (ops/shape.ts transposeCopy) rather than a transposed operand, which MLAS runs ~1.5× slower. Of the two
 * equal forms it takes the one whose product has fewer rows, where MLAS keeps its output panel in cache:
 *   k ≤ n: copy(aᵀ) @ g          (…, k, m) @ (…, m, n)
 *   k > n: (copy(gᵀ) @ a)ᵀ       (…, n, m) @ (…, m, k), then a Transpose of the (…, n, k) result
 * The weight gradients of the ViT block (dW = Xᵀ G) and the attention's dV = Aᵀ dO (k = N, n = 64) go here.
 */
export function productTA(a: Tensor, g: Tensor): Tensor {
  const [k, n] = [a.shape[a.rank - 1], g.shape[g.rank - 1]];
  const p = k <= n ? matmul(transposeCopy(a), g) : transposeLast2(matmul(transposeCopy(g), a)); // (…, k, n)
  if (a.rank > 2) batchedTA.set(p, [a, g]);
  return p;
}

/**
 * Batched products from productTA, by result: when the Expand rule sums one over its batch axes (a weight
 * expanded over row chunks by `linear`), it computes Σ_c a_cᵀ g_c as one 2-D product over the stacked
 * rows instead, (c·m, k)ᵀ (c·m, n), and the per-chunk products are left dead for `optimize`.
 */
const batchedTA = new WeakMap<Tensor, [Tensor, Tensor]>();

/** The Expand rule's shortcut above, or null where it does not apply. */
function expandOfBatchedTA(x: Tensor, g: Tensor): Tensor | null {
  const hit = batchedTA.get(g);
  const [k, n] = g.shape.slice(-2);
  if (!hit || x.size !== k * n || x.shape[x.rank - 1] !== n || (x.rank > 1 && x.shape[x.rank - 2] !== k)) return null;
  const [a, gg] = hit;
  return reshape(productTA(reshape(a, [-1, k]), reshape(gg, [-1, n])), x.shape); // (c·m, k)ᵀ (c·m, n) → (k, n) → x's shape
}

const inp = (n: Node, k: number): Tensor => {
  const t = n.inputs[k];
  if (!t) throw new Error(`autodiff: ${n.op} node ${n.name} lacks input ${k}`);
  return t;
};
const out = (n: Node, k = 0): Tensor => n.outputs[k];
const intsOf = (t: Tensor | null): number[] => {
  const d = t ? graphOf(t).info(t).data : null;
  if (!d || d.dtype !== 'int64') throw new Error(`autodiff: expected a constant int64 tensor, got ${t}`);
  return Array.from(d.data as BigInt64Array, Number);
};
/** Undoes a reduction's dropped axes so the gradient broadcasts over x. */
function unreduce(n: Node, gy: Tensor): Tensor {
  const x = inp(n, 0);
  const axes = n.inputs[1] ? intsOf(n.inputs[1]) : x.shape.map((_, i) => i);
  return reshape(
    gy,
    x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  ); // (…, 1, …) keepdims shape
}
const none = (n: Node): null[] => n.inputs.map(() => null);

const g0 = (gy: (Tensor | null)[]): Tensor => gy[0] as Tensor;

export const gradients: Record<string, GradRule> = {
  // ---- elementwise arithmetic (broadcast gradients summed back) -----------------------------------------
  Add: (n, gy) => [reduceTo(g0(gy), inp(n, 0).shape), reduceTo(g0(gy), inp(n, 1).shape)],
  Sum: (n, gy) => n.inputs.map((x) => reduceTo(g0(gy), (x as Tensor).shape)),
  Sub: (n, gy) => [reduceTo(g0(gy), inp(n, 0).shape), reduceTo(neg(g0(gy)), inp(n, 1).shape)],
  Mul: (n, gy) => [reduceTo(mul(g0(gy), inp(n, 1)), inp(n, 0).shape), reduceTo(mul(g0(gy), inp(n, 0)), inp(n, 1).shape)],
  // y = a/b: da = g/b; db = −g·a/b² = −g·y/b
  Div: (n, gy) => {
    const gb = div(g0(gy), inp(n, 1));
    return [reduceTo(gb, inp(n, 0).shape), reduceTo(neg(mul(gb, out(n))), inp(n, 1).shape)];
  },
  // Max/Min: the gradient goes to the selected operand (ties to the first).
  Max: (n, gy) => {
    const first = greaterOrEqualMask(inp(n, 0), inp(n, 1));
    return [reduceTo(where(first, g0(gy), 0), inp(n, 0).shape), reduceTo(where(first, 0, g0(gy)), inp(n, 1).shape)];
  },
  Min: (n, gy) => {
    const first = greaterOrEqualMask(inp(n, 1), inp(n, 0));
    return [reduceTo(where(first, g0(gy), 0), inp(n, 0).shape), reduceTo(where(first, 0, g0(gy)), inp(n, 1).shape)];
  },
  // y = x^p, p constant: dx = g·p·x^(p−1)
  Pow: (n, gy) => {
    const [x, p] = [inp(n, 0), inp(n, 1)];
    return [reduceTo(mul(mul(g0(gy), p), pow(x, sub(p, 1))), x.shape), null];
  },
  Neg: (_n, gy) => [neg(g0(gy))],
  Identity: (_n, gy) => [g0(gy)],
  Abs: (n, gy) => [where(less(inp(n, 0), 0), neg(g0(gy)), g0(gy))],
  Exp: (n, gy) => [mul(g0(gy), out(n))], // d eˣ = eˣ
  Log: (n, gy) => [div(g0(gy), inp(n, 0))], // d ln x = 1/x
  Sqrt: (n, gy) => [div(mul(g0(gy), 0.5), out(n))], // d √x = 1/(2√x)
  Reciprocal: (n, gy) => [neg(mul(g0(gy), mul(out(n), out(n))))], // d 1/x = −1/x²
  Tanh: (n, gy) => [mul(g0(gy), sub(1, mul(out(n), out(n))))], // 1 − y²
  Sigmoid: (n, gy) => [mul(g0(gy), mul(out(n), sub(1, out(n))))], // y(1 − y)
  Relu: (n, gy) => [where(greater(inp(n, 0), 0), g0(gy), 0)],
  Clip: (n, gy) => {
    const x = inp(n, 0);
    const inside = (lo: Tensor | null, hi: Tensor | null): Tensor => {
      const a = lo ? greater(x, lo) : null;
      const b = hi ? less(x, hi) : null;
      const m = a && b ? graphOf(x).op('And', [a, b], {}, x.shape, 'bool') : (a ?? b);
      if (!m) throw new Error('autodiff: Clip without bounds');
      return m;
    };
    return [where(inside(n.inputs[1] ?? null, n.inputs[2] ?? null), g0(gy), 0), null, null];
  },
  // d erf(x) = 2/√π · e^(−x²)
  Erf: (n, gy) => {
    const x = inp(n, 0);
    return [mul(g0(gy), mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Gelu: (n, gy) => {
    const x = inp(n, 0);
    const g = g0(gy);
    const approx = n.attrs.approximate;
    if (approx && 's' in approx && approx.s === 'tanh') {
      // y = x/2 · (1 + tanh u), u = c(x + 0.044715x³), c = √(2/π)
      // dy/dx = (1 + tanh u)/2   (term 1)   +   x/2 · (1 − tanh² u) · c(1 + 3·0.044715x²)   (term 2)
      const c = Math.sqrt(2 / Math.PI);
      const x2 = mul(x, x);
      const t = graphOf(x).op('Tanh', [mul(mul(x, add(mul(x2, 0.044715), 1)), c)], {}, x.shape, x.dtype);
      const term1 = mul(add(t, 1), 0.5);
      const term2 = mul(mul(mul(x, 0.5), sub(1, mul(t, t))), mul(add(mul(x2, 3 * 0.044715), 1), c));
      return [mul(g, add(term1, term2))];
    }
    // y = x·Φ(x): dy/dx = Φ(x) (term 1) + x·φ(x) (term 2), Φ(x) = (1 + erf(s))/2, φ(x) = e^(−x²/2)/√(2π),
    // s = x/√2. In nine passes: 2·dy/dx = 1 + erf(s) + (2/√π)·s/e^(s²)  (e^(s²) → ∞ gives the right 0).
    const s = mul(x, Math.SQRT1_2);
    const erfS = graphOf(x).op('Erf', [s], {}, x.shape, x.dtype); // term 1, doubled: 1 + erf(s)
    const t2 = mul(div(s, exp(mul(s, s))), 2 / Math.sqrt(Math.PI)); // term 2, doubled: 2x·φ(x)
    return [mul(mul(g, sum(erfS, t2, 1)), 0.5)];
  },
  Where: (n, gy) => {
    const c = inp(n, 0);
    return [null, reduceTo(where(c, g0(gy), 0), inp(n, 1).shape), reduceTo(where(c, 0, g0(gy)), inp(n, 2).shape)];
  },
  Cast: (n, gy) => [cast(g0(gy), inp(n, 0).dtype)],

  // ---- matrix products -------------------------------------------------------------------------------
  // y = a @ b: da = g @ bᵀ, db = aᵀ @ g (summed over broadcast batch axes)
  MatMul: (n, gy) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const g = g0(gy);
    const da = reduceTo(matmul(g, transposeLast2(b)), a.shape);
    if (b.rank === 2 && a.rank > 2) {
      // A weight shared over the batch: db = Σ_batch aᵀ g as one product over (…·m, k)ᵀ (…·m, n).
      const [k, nn] = b.shape;
      return [da, productTA(reshape(a, [-1, k]), reshape(g, [-1, nn]))]; // (k, n)
    }
    const batch = b.shape.slice(0, -2);
    const sameBatch = a.rank === b.rank && a.shape.slice(0, -2).every((d, i) => d === batch[i]);
    return [da, sameBatch ? productTA(a, g) : reduceTo(matmul(transposeLast2(a), g), b.shape)];
  },
  // y = α·A'B' + β·C with A' = transA ? Aᵀ : A, B' likewise.
  Gemm: (n, gy) => {
    const [a, b, c] = [inp(n, 0), inp(n, 1), n.inputs[2] ?? null];
    const g = g0(gy);
    const at = n.attrs.alpha;
    const bt = n.attrs.beta;
    const alpha = at && 'f' in at ? at.f : 1;
    const beta = bt && 'f' in bt ? bt.f : 1;
    const tA = !!(n.attrs.transA && 'i' in n.attrs.transA && n.attrs.transA.i);
    const tB = !!(n.attrs.transB && 'i' in n.attrs.transB && n.attrs.transB.i);
    // dA' = α g B'ᵀ; dA = transA ? (dA')ᵀ = α B' gᵀ : dA'
    const ga = tA ? gemm(b, g, null, { alpha, transA: tB, transB: true }) : gemm(g, b, null, { alpha, transB: !tB });
    // dB' = α A'ᵀ g; dB = transB ? (dB')ᵀ = α gᵀ A' : dB'
    let gb: Tensor;
    if (tB) gb = gemm(g, a, null, { alpha, transA: true, transB: tA });
    else if (tA) gb = gemm(a, g, null, { alpha });
    else gb = alpha === 1 ? productTA(a, g) : mul(productTA(a, g), alpha);
    return [ga, gb, c ? reduceTo(beta === 1 ? g : mul(g, beta), c.shape) : null];
  },

  // ---- reductions ------------------------------------------------------------------------------------
  ReduceSum: (n, gy) => [expand(unreduce(n, g0(gy)), inp(n, 0).shape), null],
  ReduceMean: (n, gy) => {
    const x = inp(n, 0);
    const count = x.size / out(n).size;
    return [expand(mul(unreduce(n, g0(gy)), 1 / count), x.shape), null];
  },
  // Max/Min: the gradient is shared equally among the tied extrema.
  ReduceMax: (n, gy) => [extremumGrad(n, g0(gy)), null],
  ReduceMin: (n, gy) => [extremumGrad(n, g0(gy)), null],

  // ---- softmax family --------------------------------------------------------------------------------
  // y = softmax(x): dx = y·(g − Σ g·y)
  Softmax: (n, gy) => {
    const axis = axisOf(n);
    const y = out(n);
    const g = g0(gy);
    return [mul(y, sub(g, reduceSum(mul(g, y), [axis], true)))];
  },
  // y = log softmax(x): dx = g − eʸ·Σ g
  LogSoftmax: (n, gy) => {
    const axis = axisOf(n);
    const g = g0(gy);
    return [sub(g, mul(exp(out(n)), reduceSum(g, [axis], true)))];
  },

  // ---- layer normalisation (fused; float32) -------------------------------------------------------------
  // y = x̂·γ + β, x̂ = (x − μ)·r, r = 1/√(σ² + ε), over the last axis of size D.
  LayerNormalization: (n, gy) => {
    const [x, gamma] = [inp(n, 0), inp(n, 1)];
    const beta = n.inputs[2] ?? null;
    const g = g0(gy);
    const mu = cast(out(n, 1), x.dtype); // (…, 1)
    const r = cast(out(n, 2), x.dtype); // (…, 1)
    const xhat = mul(sub(x, mu), r); // (…, D)
    const dgamma = reduceTo(mul(g, xhat), gamma.shape); // (D): Σ g·x̂ over the leading axes
    const dbeta = beta ? reduceTo(g, beta.shape) : null; // (D): Σ g
    const dxhat = mul(g, gamma); // (…, D)
    // dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))
    //   term 1: dx̂, the direct path
    //   term 2: −mean(dx̂), through μ
    //   term 3: −x̂·mean(dx̂·x̂), through σ²
    // Summed in one pass as r·dx̂ + x̂·b + a, with the per-row a = −r·mean(dx̂), b = −r·mean(dx̂·x̂).
    const negInv = -1 / x.shape[x.rank - 1];
    const a = mul(mul(reduceSum(dxhat, [-1], true), negInv), r); // (…, 1)
    const b = mul(mul(reduceSum(mul(dxhat, xhat), [-1], true), negInv), r); // (…, 1)
    const dx = sum(mul(dxhat, r), mul(xhat, b), a);
    return beta ? [dx, dgamma, dbeta] : [dx, dgamma];
  },

  // ---- data movement ---------------------------------------------------------------------------------
  Transpose: (n, gy) => {
    const permAttr = n.attrs.perm;
    const perm = permAttr && 'ints' in permAttr ? permAttr.ints : inp(n, 0).shape.map((_, i, a) => a.length - 1 - i);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g0(gy), inv)];
  },
  Reshape: (n, gy) => [reshape(g0(gy), inp(n, 0).shape), null],
  Unsqueeze: (n, gy) => [reshape(g0(gy), inp(n, 0).shape), null],
  Squeeze: (n, gy) => [reshape(g0(gy), inp(n, 0).shape), null],
  Flatten: (n, gy) => [reshape(g0(gy), inp(n, 0).shape)],
  Expand: (n, gy) => [expandOfBatchedTA(inp(n, 0), g0(gy)) ?? reduceTo(g0(gy), inp(n, 0).shape), null],
  Concat: (n, gy) => {
    const axis = axisOf(n);
    let at = 0;
    return n.inputs.map((x) => {
      const t = x as Tensor;
      const s = slice(g0(gy), [axis], [at], [at + t.shape[axis]]);
      at += t.shape[axis];
      return s;
    });
  },
  Split: (n, gy) => [
    concat(
      n.outputs.map((o, k) => gy[k] ?? zeros(o)),
      axisOf(n),
    ),
    null,
  ],
  // Slice with positive steps: scatter the gradient back with zeros (Pad for step 1).
  Slice: (n, gy) => {
    const x = inp(n, 0);
    const [starts, ends, axes] = [intsOf(n.inputs[1]), intsOf(n.inputs[2]), intsOf(n.inputs[3] ?? null)];
    const steps = n.inputs[4] ? intsOf(n.inputs[4]) : axes.map(() => 1);
    let g = g0(gy);
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((a, k) => {
      if (steps[k] !== 1) {
        // Interleave zeros: (…, m, …) → (…, m, step, …) with the value at offset 0, then trim.
        const m = g.shape[a];
        const gg = reshape(g, [...g.shape.slice(0, a + 1), 1, ...g.shape.slice(a + 1)]); // (…, m, 1, …)
        const padded = pad(gg, gg.shape.map(() => 0).concat(gg.shape.map((_, i) => (i === a + 1 ? steps[k] - 1 : 0)))); // (…, m, step, …)
        g = reshape(padded, [...g.shape.slice(0, a), m * steps[k], ...g.shape.slice(a + 1)]);
        g = slice(g, [a], [0], [Math.min(m * steps[k], ends[k] - starts[k])]);
      }
      pads[a] = starts[k];
      pads[a + x.rank] = x.shape[a] - starts[k] - g.shape[a];
    });
    return [pad(g, pads), null, null, null, null];
  },
  // Gather's gradient is a scatter-add into zeros (ScatterND with reduction 'add').
  Gather: (n, gy) => {
    const [x, idx] = [inp(n, 0), inp(n, 1)];
    const axis = axisOf(n);
    const r = idx.rank;
    // Move the gathered axes to the front: g (pre, idx…, post) → (idx…, pre, post)
    const pre = [...Array(axis).keys()];
    const idxAxes = [...Array(r).keys()].map((i) => axis + i);
    const post = [...Array(x.rank - axis - 1).keys()].map((i) => axis + r + i);
    const gT = transpose(g0(gy), [...idxAxes, ...pre, ...post]);
    const xPerm = [axis, ...pre, ...[...Array(x.rank - axis - 1).keys()].map((i) => axis + 1 + i)];
    const xT = transpose(zeros(x), xPerm); // (x[axis], pre, post)
    const idx1 = indexColumn(idx, x.shape[axis]); // (idx…, 1)
    const sc = graphOf(x).op('ScatterND', [xT, idx1, gT], { reduction: { s: 'add' } }, xT.shape, x.dtype);
    return [
      transpose(
        sc,
        xPerm.map((_, i) => xPerm.indexOf(i)),
      ),
      null,
    ];
  },
  // Constant Pad with non-negative pads: the gradient is the un-padded slice.
  Pad: (n, gy) => {
    const x = inp(n, 0);
    const pads = intsOf(n.inputs[1]);
    const axes = x.shape.map((_, i) => i);
    return [
      slice(
        g0(gy),
        axes,
        axes.map((a) => pads[a]),
        axes.map((a) => pads[a] + x.shape[a]),
      ),
      null,
      null,
    ];
  },

  // ---- no gradient -----------------------------------------------------------------------------------
  Equal: none,
  Less: none,
  Greater: none,
  LessOrEqual: none,
  GreaterOrEqual: none,
  Not: none,
  And: none,
  Or: none,
  ArgMax: none,
  ArgMin: none,
  TopK: none,
  RandomUniformLike: none,
  RandomNormalLike: none,
};

function axisOf(n: Node): number {
  const a = n.attrs.axis;
  const rank = inp(n, 0).rank;
  const v = a && 'i' in a ? a.i : -1;
  return v < 0 ? v + rank : v;
}

function greaterOrEqualMask(a: Tensor, b: Tensor): Tensor {
  return graphOf(a).op('GreaterOrEqual', [a, b], {}, broadcastOf(a, b), 'bool');
}

function broadcastOf(a: Tensor, b: Tensor): number[] {
  const r = Math.max(a.rank, b.rank);
  return Array.from({ length: r }, (_, i) => Math.max(a.shape[i - r + a.rank] ?? 1, b.shape[i - r + b.rank] ?? 1));
}

function extremumGrad(n: Node, gy: Tensor): Tensor {
  const x = inp(n, 0);
  const y = unreduce(n, out(n)); // keepdims shape
  const mask = cast(equal(x, y), x.dtype); // (x shape): 1 at the extrema
  const count = reduceSum(mask, intsOf(n.inputs[1] ?? null), true);
  return mul(mul(mask, unreduce(n, gy)), div(1, count));
}

// Elementwise ops with broadcasting. Each builder computes the output shape (errors name the op and the
// shapes) and emits one standard ONNX node; the gradient rules live in ../gradients.ts.
import { type Graph, graphOf } from '../graph.js';
import { broadcastShapes } from '../shapes.js';
import { type Dim, broadcastDims } from '../sym.js';
import { type DType, Tensor, isFloat } from '../tensor.js';
import { reshape } from './shape.js';

/** An operand: a tensor or a plain number (a scalar constant of the other operand's dtype). */
export type Operand = Tensor | number;

function pair(op: string, a: Operand, b: Operand): [Graph, Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error(`${op}: at least one operand must be a tensor`);
  const g = graphOf((a instanceof Tensor ? a : b) as Tensor);
  const ta = a instanceof Tensor ? a : g.scalar(a, (b as Tensor).dtype);
  const tb = b instanceof Tensor ? b : g.scalar(b, ta.dtype);
  if (ta.dtype !== tb.dtype) throw new Error(`${op}: dtypes ${ta.dtype} and ${tb.dtype} differ (cast one first)`);
  return [g, ta, tb];
}

/** Broadcast result dims: numbers for static operands (the original rule), symbolic-aware otherwise. */
function broadcast(op: string, ...ts: Tensor[]): readonly Dim[] {
  return ts.some((t) => t.symbolic) ? broadcastDims(op, ...ts.map((t) => t.dims)) : broadcastShapes(op, ...ts.map((t) => t.shape));
}

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Tensor {
  const [g, ta, tb] = pair(op, a, b);
  return g.op(op, [ta, tb], {}, broadcast(op, ta, tb), outDtype ?? ta.dtype);
}

function unary(op: string, x: Tensor, floatOnly = true): Tensor {
  if (floatOnly && !isFloat(x.dtype)) throw new Error(`${op}: needs a float tensor, got ${x}`);
  return graphOf(x).op(op, [x], {}, x.dims, x.dtype);
}

export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
/** Elementwise maximum / minimum of two tensors (gradient to the larger / smaller; ties to the first). */
export const maximum = (a: Operand, b: Operand): Tensor => binary('Max', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('Min', a, b);

/** Elementwise sum of any number of broadcasting operands in one pass (ONNX Sum; Adds under `sumAsAdds`). */
export function sum(...xs: Operand[]): Tensor {
  const first = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!first) throw new Error('Sum: at least one operand must be a tensor');
  const g = graphOf(first);
  const ts = xs.map((x) => (x instanceof Tensor ? x : g.scalar(x, first.dtype)));
  for (const t of ts) if (t.dtype !== first.dtype) throw new Error(`Sum: dtypes ${first.dtype} and ${t.dtype} differ`);
  if (ts.length === 1) return ts[0];
  if (g.lowering.sumAsAdds) return ts.slice(1).reduce((acc, t) => add(acc, t), ts[0]); // see GraphLowering
  return g.op('Sum', ts, {}, broadcast('Sum', ...ts), first.dtype);
}

/** x^p for a constant exponent p (number or a constant tensor). */
export function pow(x: Tensor, p: Operand): Tensor {
  if (p === 2) return mul(x, x); // cheaper and exact
  return binary('Pow', x, p);
}

export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
export const identity = (x: Tensor): Tensor => unary('Identity', x, false);

/** SiLU (swish): x·σ(x), from primitives. */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/**
 * erf. float32/float16 use ONNX Erf. onnxruntime's CPU has no double Erf, so float64 lowers to the
 * everywhere-convergent series of positive terms (Abramowitz & Stegun 7.1.6)
 *   erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))
 * on x clamped to [−6, 6] (1 − erf(6) < 3e-17), summed as Horner-free powers: the terms are all positive
 * (no cancellation) and 130 of them reach double precision at |x| = 6. It is smooth, so finite
 * differences and autodiff agree; it costs a [.., 130] intermediate, so it is for checks, not speed.
 */
export function erf(x: Tensor): Tensor {
  if (x.dtype !== 'float64') return unary('Erf', x);
  const g = graphOf(x);
  return g.scope('erf64', () => {
    const N = 130;
    const coef: number[] = [];
    let c = 1;
    for (let n = 1; n <= N; n++) {
      c *= 2 / (2 * n + 1); // c_n = 2ⁿ / (1·3·…·(2n+1))
      coef.push(c);
    }
    const xc = clip(x, -6, 6);
    const y = mul(xc, xc); // x²
    const yy = reshape(y, [...x.shape, 1]); // (..., 1)
    const powers = pow(
      yy,
      g.constant({ dtype: 'float64', dims: [N], data: Float64Array.from({ length: N }, (_, k) => k + 1) }, 'erf_exponents'),
    ); // (..., N)
    const coefT = g.constant({ dtype: 'float64', dims: [N, 1], data: Float64Array.from(coef) }, 'erf_coef');
    const series = g.op('MatMul', [powers, coefT], {}, [...x.shape, 1], 'float64'); // (..., 1)
    const s = add(reshape(series, x.shape), 1); // (...)
    return mul(mul(mul(xc, exp(neg(y))), 2 / Math.sqrt(Math.PI)), s);
  });
}

/** Clamps x to [lo, hi] (ONNX Clip; gradient passes where lo < x < hi). */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  const g = graphOf(x);
  return g.op('Clip', [x, g.scalar(lo, x.dtype), g.scalar(hi, x.dtype)], {}, x.dims, x.dtype);
}

/**
 * GELU. float32: ONNX Gelu (opset 20), fused in onnxruntime; its gradient rule is analytic.
 * float64: lowered to primitives (x/2 · (1 + erf(x/√2)), or the tanh form) since ORT lacks double Gelu.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (x.dtype === 'float64') {
    if (approximate === 'none') return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)); // √(2/π)(x + 0.044715x³)
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return graphOf(x).op('Gelu', [x], approximate === 'tanh' ? { approximate: { s: 'tanh' } } : {}, x.dims, x.dtype);
}

/** Casts to another dtype (gradient casts back). */
export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const code: Record<DType, number> = { float32: 1, bool: 9, int64: 7, float16: 10, float64: 11 };
  return graphOf(x).op('Cast', [x], { to: { i: code[to] } }, x.dims, to);
}

/** Elementwise select: cond ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (cond.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${cond}`);
  const [g, ta, tb] = pair('Where', a, b);
  return g.op('Where', [cond, ta, tb], {}, broadcast('Where', cond, ta, tb), ta.dtype);
}

// Comparisons and logic: bool outputs, no gradient.
export const less = (a: Operand, b: Operand): Tensor => binary('Less', a, b, 'bool');
export const greater = (a: Operand, b: Operand): Tensor => binary('Greater', a, b, 'bool');
export const lessOrEqual = (a: Operand, b: Operand): Tensor => binary('LessOrEqual', a, b, 'bool');
export const greaterOrEqual = (a: Operand, b: Operand): Tensor => binary('GreaterOrEqual', a, b, 'bool');
export const equal = (a: Operand, b: Operand): Tensor => binary('Equal', a, b, 'bool');
export const logicalNot = (x: Tensor): Tensor => graphOf(x).op('Not', [x], {}, x.dims, 'bool');
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, 'bool');
export const logicalOr = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, 'bool');

// Mixed-precision training (Micikevicius et al., "Mixed Precision Training", ICLR 2018; as
// torch.cuda.amp's autocast + GradScaler), the one place where a graph's float16 casts are made:
//
// - Matrix products in float16: `autocastLinear` and `autocastMatmul` cast their float32 operands to
//   float16, multiply, and cast the product back to float32. Parameters stay float32 (the master weights):
//   the Cast of a weight is the step's float16 copy of it, made inside the graph once per step (optimize's
//   CSE merges the casts of one weight used by several forwards). Everything between products —
//   LayerNorm statistics, softmax, GELU, residual sums, the losses, gradient norms, the optimiser and the
//   EMA — stays float32. A Linear's bias is added in float32 after the product, so its gradient (a sum over
//   every row) is summed in float32 too. The backward of a float16 product is float16 (the Cast rule casts
//   the float32 gradient down, MatMul's rule multiplies in float16, the Cast back up makes the float32
//   gradient of the float32 operand).
// - Dynamic loss scaling (GradScaler): the gradient is seeded with the loss scale S (a state input), so
//   float16 gradients of small values do not underflow; the optimiser divides by S before clipping
//   (optim.ts `lossScale`) and skips the whole update when any gradient is not finite (a float16 product
//   overflowed); S halves on such a step and doubles after `interval` finite steps in a row.
//
// The products go float16 only in graphs built with `GraphLowering.mixedPrecision` (graph.ts): the
// training step on a GPU whose provider runs float16 kernels. onnxruntime's CPU runs float16 MatMul and
// Gemm (slowly; tests use it as the oracle of the mixed graph), WebGPU only on an adapter with the
// shader-f16 feature (SwiftShader has none), CUDA everywhere.
import { type Graph, graphOf } from './graph.js';
import { add, cast, greaterOrEqual, less, logicalNot, mul, where } from './ops/elementwise.js';
import { linear, matmul } from './ops/linalg.js';
import { reduceSum } from './ops/reduce.js';
import { type HostTensor, type Tensor, hostTensor } from './tensor.js';

/** Whether `x`'s graph computes its matrix products in float16 (float32 operands only). */
function half(x: Tensor): boolean {
  return x.dtype === 'float32' && !!graphOf(x).lowering.mixedPrecision;
}

/** `linear(x, w, b)` (ops/linalg.ts); in a mixed-precision graph the product in float16, the bias added in float32. */
export function autocastLinear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  if (!half(x)) return linear(x, w, b);
  const y = cast(linear(cast(x, 'float16'), cast(w, 'float16'), null), 'float32'); // (…, N)
  return b ? add(y, b) : y;
}

/** `matmul(a, b)` (ops/linalg.ts); in a mixed-precision graph in float16, the product cast back to float32. */
export function autocastMatmul(a: Tensor, b: Tensor): Tensor {
  if (!half(a)) return matmul(a, b);
  return cast(matmul(cast(a, 'float16'), cast(b, 'float16')), 'float32');
}

/** torch.cuda.amp.GradScaler's defaults, which the training step uses. */
export const LOSS_SCALE_DEFAULTS = { init: 2 ** 16, growth: 2, backoff: 0.5, interval: 2000 } as const;

export interface LossScaleOptions {
  /** The scale of a new run. */
  init: number;
  /** Multiplies the scale after `interval` finite steps in a row. */
  growth: number;
  /** Multiplies the scale on a step whose gradients overflowed. */
  backoff: number;
  interval: number;
}

/** The prefix of every loss-scale input and output name. */
export const LOSS_SCALE_PREFIX = 'amp/';

/** The loss-scale state inputs and the per-step outputs of a mixed-precision step graph. */
export const LOSS_SCALE_IO = {
  scale: 'amp/loss_scale',
  goodSteps: 'amp/good_steps',
  /** 1 when this step's update was skipped (a gradient was not finite), else 0. */
  skipped: 'amp/skipped',
  /** The scale after this step (the next step's). */
  scaleAfter: 'amp/scale_after',
} as const;

export interface LossScale {
  /** Scalar float32 state input: the loss (and so every gradient) is multiplied by it. */
  scale: Tensor;
  /** Scalar float32 state input: finite steps in a row since the scale last changed. */
  goodSteps: Tensor;
}

/** Declares the loss-scale state inputs of `g` (before its backward: the gradient seed is `scale`). */
export function lossScaleInputs(g: Graph): LossScale {
  return {
    scale: g.input(LOSS_SCALE_IO.scale, [], 'float32', 'dynamic loss scale: gradients are of loss × this'),
    goodSteps: g.input(LOSS_SCALE_IO.goodSteps, [], 'float32', 'finite steps in a row since the loss scale last changed'),
  };
}

/**
 * True (a bool scalar) when every element of every gradient is finite: the sum of squares stays below
 * float32's largest value (an Inf or NaN anywhere makes it Inf or NaN, and NaN compares false). A finite
 * gradient whose square overflows float32 counts as not finite too, as it is a diverged step anyway.
 * IsInf/IsNaN are avoided: a sum and one comparison run on every provider.
 */
export function allFinite(grads: readonly Tensor[]): Tensor {
  if (grads.length === 0) throw new Error('allFinite: no gradients');
  const sq = grads.map((d) => reduceSum(mul(cast(d, 'float32'), cast(d, 'float32'))));
  return less(
    sq.reduce((a, b) => add(a, b)),
    3.4e38,
  );
}

/**
 * The next loss-scale state (GradScaler.update): after a step whose gradients were all `finite`, one more
 * good step, and the scale × growth when they reach `interval` (the count restarts); otherwise the scale ×
 * backoff and the count restarts. Adds the outputs `next/amp/…` (state) and `amp/skipped`, `amp/scale_after`.
 */
export function updateLossScale(
  g: Graph,
  ls: LossScale,
  finite: Tensor,
  o: LossScaleOptions = LOSS_SCALE_DEFAULTS,
): { stateMap: Record<string, string>; initialState(): Record<string, HostTensor> } {
  const stateMap: Record<string, string> = {};
  g.scope('amp', () => {
    const good = add(ls.goodSteps, 1);
    const grow = greaterOrEqual(good, o.interval);
    const scale = where(finite, where(grow, mul(ls.scale, o.growth), ls.scale), mul(ls.scale, o.backoff));
    const count = where(finite, where(grow, 0, good), 0);
    stateMap[g.output(scale, `next/${ls.scale.name}`).name] = ls.scale.name;
    stateMap[g.output(count, `next/${ls.goodSteps.name}`).name] = ls.goodSteps.name;
    g.output(scale, LOSS_SCALE_IO.scaleAfter);
    g.output(cast(logicalNot(finite), 'float32'), LOSS_SCALE_IO.skipped);
  });
  return {
    stateMap,
    initialState: () => ({
      [ls.scale.name]: hostTensor('float32', [], [o.init]),
      [ls.goodSteps.name]: hostTensor('float32', [], [0]),
    }),
  };
}

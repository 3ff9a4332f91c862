// CAPI's predictor and student head (capi/model.py: EncoderDecoder's decoder, L2NormLinear; recipe §6).
// Queries are one learned mask token per predicted position; every block is pre-norm cross-attention only
// (queries attend to the encoder's output, never to each other) and an MLP, both residual:
//   x ← x + proj(attn(q_proj(rms(x)), k_proj(ctx), v_proj(ctx)))   RoPE on q (target positions) and k
//   x ← x + fc2(gelu(fc1(rms(x))))                                    (context positions), no biases
// then RMSNorm without weight, and the student head: L2-normalise → weight-normalised Linear (no bias) → K
// logits. The context is the encoder's normed output on the visible tokens (prefix tokens included).
// RoPE: angle = coords · freqs with 2-D coordinates in [0, 1] (rope-coords.ts); the tables are inputs (cos, sin
// of shape (B, 1, n, head_dim)), computed on the host per step.
// Parameters are named as the official module (blocks.i.attn.q_proj.weight, …, mask_token, head.weight_g,
// head.weight_v) under the graph scope 'predictor/'; Linear weights are stored (in, out) in the graph.
import { type Graph } from '../../graph/graph.js';
import { add, div, gelu, mul, neg, reciprocal, sqrt } from '../../graph/ops/elementwise.js';
import { linear, matmul } from '../../graph/ops/linalg.js';
import { attention, l2Normalize } from '../../graph/ops/nn.js';
import { reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { concat, expand, reshape, slice, transpose } from '../../graph/ops/shape.js';
import { type DType, type Tensor } from '../../graph/tensor.js';
import { type ParamInit } from '../../model/params.js';

export interface PredictorConfig {
  /** Width (the encoder's: the official transformers_kwargs are shared). */
  dim: number;
  heads: number;
  /** Cross-attention blocks (official 12 for ViT-L). */
  depth: number;
  /** K: the clustering head's prototypes (capi.num_clusters 16384). */
  prototypes: number;
  /** RMSNorm eps (norm_layer_kwargs 1e-5). */
  eps: number;
}

export interface PredictorParamSpec {
  /** Name under 'predictor/' (the official module's). */
  name: string;
  /** PyTorch shape. */
  shape: number[];
  init: ParamInit;
  /** Stored (in, out) in the graph: PyTorch's Linear weight transposed. */
  transposed: boolean;
}

const xavier = (fanIn: number, fanOut: number): ParamInit => ({ kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) });
const ONE: ParamInit = { kind: 'constant', value: 1 };

/** The predictor's and student head's parameters in the official order, shapes and init (init_weights). */
export function predictorParamSpecs(c: PredictorConfig): PredictorParamSpec[] {
  const D = c.dim;
  const out: PredictorParamSpec[] = [];
  const lin = (name: string, o: number, i: number): void => {
    out.push({ name, shape: [o, i], init: xavier(i, o), transposed: true });
  };
  for (let b = 0; b < c.depth; b++) {
    const p = `blocks.${b}`;
    out.push({ name: `${p}.norm1.weight`, shape: [D], init: ONE, transposed: false });
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'proj']) lin(`${p}.attn.${n}.weight`, D, D);
    out.push({ name: `${p}.norm2.weight`, shape: [D], init: ONE, transposed: false });
    lin(`${p}.mlp.fc1.weight`, 4 * D, D);
    lin(`${p}.mlp.fc2.weight`, D, 4 * D);
  }
  out.push({ name: 'mask_token', shape: [1, D], init: { kind: 'normal', std: 0.02 }, transposed: false });
  // L2NormLinear: weight_norm(dim=0) over a trunc-normal(0.02) weight, weight_g filled with 1.
  out.push({ name: 'head.weight_g', shape: [c.prototypes, 1], init: ONE, transposed: true });
  out.push({
    name: 'head.weight_v',
    shape: [c.prototypes, D],
    init: { kind: 'trunc-normal', std: 0.02, a: -2, b: 2 },
    transposed: true,
  });
  return out;
}

/** Graph shape of a predictor parameter. */
export const predictorGraphShape = (s: PredictorParamSpec): number[] => (s.transposed ? [s.shape[1], s.shape[0]] : [...s.shape]);

/** Declares the predictor's parameters under the current scope (per tensor; the trainer uses flat views). */
export function declarePredictorParams(g: Graph, c: PredictorConfig, dtype: DType = 'float32'): Record<string, Tensor> {
  return Object.fromEntries(predictorParamSpecs(c).map((s) => [s.name, g.param(s.name, predictorGraphShape(s), dtype)]));
}

/** x · rsqrt(mean(x²) + eps) (· weight): torch's nn.RMSNorm over the last axis. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps: number): Tensor {
  const y = mul(x, reciprocal(sqrt(add(reduceMean(mul(x, x), [-1], true), eps))));
  return weight ? mul(y, weight) : y;
}

/** x (…, n, hd) rotated: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁] (halves of the last axis). */
export function rotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const a = x.rank - 1;
  const h = x.shape[a] / 2;
  const half = concat([neg(slice(x, [a], [h], [2 * h])), slice(x, [a], [0], [h])], a);
  return add(mul(x, cos), mul(half, sin));
}

/** (B, n, D) → (B, heads, n, D / heads). */
function splitHeads(x: Tensor, heads: number): Tensor {
  const [B, n, D] = x.shape;
  return transpose(reshape(x, [B, n, heads, D / heads]), [0, 2, 1, 3]);
}

export interface PredictorInputs {
  /** (B, T, D) the encoder's normed output on the visible tokens, prefix tokens included. */
  context: Tensor;
  /** P: predicted positions per image. */
  queries: number;
  /** RoPE tables (B, 1, P, hd) of the predicted positions and (B, 1, T, hd) of the context's. */
  qCos: Tensor;
  qSin: Tensor;
  kCos: Tensor;
  kSin: Tensor;
}

/** The predictor: (B, P, D) after its final RMSNorm. `p` by official name (graph layout). */
export function predictor(g: Graph, i: PredictorInputs, c: PredictorConfig, p: Record<string, Tensor>): Tensor {
  const P = (n: string): Tensor => {
    const t = p[n];
    if (!t) throw new Error(`predictor: missing parameter ${n}`);
    return t;
  };
  const [B, , D] = i.context.shape;
  const nq = i.queries;
  let x = expand(reshape(P('mask_token'), [1, 1, D]), [B, nq, D]); // (B, P, D)
  for (let b = 0; b < c.depth; b++) {
    const n = `blocks.${b}`;
    x = g.scope(n, () => {
      const xn = rmsNorm(x, P(`${n}.norm1.weight`), c.eps);
      const q = rotary(splitHeads(linear(xn, P(`${n}.attn.q_proj.weight`), null), c.heads), i.qCos, i.qSin); // (B, h, P, hd)
      const k = rotary(splitHeads(linear(i.context, P(`${n}.attn.k_proj.weight`), null), c.heads), i.kCos, i.kSin); // (B, h, T, hd)
      const v = splitHeads(linear(i.context, P(`${n}.attn.v_proj.weight`), null), c.heads); // (B, h, T, hd)
      const o = reshape(transpose(attention(q, k, v), [0, 2, 1, 3]), [B, nq, D]); // (B, P, D)
      const y = add(x, linear(o, P(`${n}.attn.proj.weight`), null));
      const hidden = gelu(linear(rmsNorm(y, P(`${n}.norm2.weight`), c.eps), P(`${n}.mlp.fc1.weight`), null));
      return add(y, linear(hidden, P(`${n}.mlp.fc2.weight`), null));
    });
  }
  return rmsNorm(x, null, c.eps);
}

/** L2NormLinear: x (R, D) → L2-normalised (eps 1e-12) → weight-normalised Linear, no bias → (R, K). */
export function studentHead(x: Tensor, p: Record<string, Tensor>): Tensor {
  const v = p['head.weight_v']; // (D, K)
  const norm = sqrt(reduceSum(mul(v, v), [0], true)); // (1, K): each prototype's ‖v_k‖
  const w = mul(div(v, norm), p['head.weight_g']); // (D, K)
  return matmul(l2Normalize(x, -1, 1e-12), w);
}

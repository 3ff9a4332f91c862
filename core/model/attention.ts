// Multi-head self-attention as in dinov2/layers/attention.py and dinov3/layers/attention.py: one fused
// qkv Linear D → 3D chunked [q | k | v], h heads of size d = D/h, softmax(q kᵀ / √d) v, proj D → D.
// DINOv3 extras: mask_k_bias (the k third of the qkv bias multiplied by 0: keys carry no bias) and RoPE
// on the patch tokens' q and k (rope.ts; the tables leave CLS and registers untouched).
// Layout follows core/graph/examples/block.ts: weights (in, out), q pre-scaled, kᵀ made by one Transpose.
import { type Graph } from '../graph/graph.js';
import { mul } from '../graph/ops/elementwise.js';
import { autocastLinear, autocastMatmul } from '../graph/amp.js';
import { softmax } from '../graph/ops/nn.js';
import { reshape, slice, split, transpose } from '../graph/ops/shape.js';
import { type Tensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, headDim } from './config.js';
import { type BlockParam } from './ffn.js';
import { type RopeGraphTables, applyRope } from './rope.js';

export interface AttentionOptions {
  /** RoPE tables (T, 1, d) for DINOv3; absent for DINOv2. */
  rope?: RopeGraphTables;
  /** Recompute the scores and softmax in the backward instead of keeping them (g.remat). */
  remat?: boolean;
  /** Also return the CLS query's attention over all keys, per head. */
  clsAttention?: boolean;
}

export interface AttentionResult {
  /** (B, T, D) */
  y: Tensor;
  /** (B, h, T): softmax row of the CLS query (sums to 1 over the T keys), when requested. */
  clsAttention?: Tensor;
}

/** The qkv bias with its k third zeroed (LinearKMaskedBias), or the bias itself. */
function qkvBias(g: Graph, p: BlockParam, c: ViTConfig): Tensor | null {
  if (!c.qkvBias) return null;
  const b = p('attn.qkv.bias'); // (3D)
  if (!c.maskKBias) return b;
  const D = c.dim;
  const dtype = b.dtype === 'float64' ? 'float64' : 'float32';
  const m = dtype === 'float64' ? new Float64Array(3 * D).fill(1) : new Float32Array(3 * D).fill(1);
  m.fill(0, D, 2 * D);
  return mul(b, g.constant(hostTensor(dtype, [3 * D], m), 'k_bias_mask')); // (3D)
}

/** x (B, T, D) → (B, T, D). */
export function selfAttention(g: Graph, x: Tensor, p: BlockParam, c: ViTConfig, o: AttentionOptions = {}): AttentionResult {
  const [B, T, D] = x.dims;
  const nh = c.heads;
  const hd = headDim(c);
  const qkv = autocastLinear(x, p('attn.qkv.weight'), qkvBias(g, p, c)); // (B, T, 3D)
  const [q0, k0, v0] = split(qkv, 3, -1); // (B, T, D) each
  if (g.lowering.attentionOp && !o.clsAttention && !o.remat && x.dtype === 'float32') {
    // One ONNX Attention node on (B, T, D) (GraphLowering.attentionOp): the same softmax(q kᵀ / √d) v per head.
    let q = q0;
    let k = k0;
    if (o.rope) {
      q = reshape(applyRope(reshape(q0, [B, T, nh, hd]), o.rope), [B, T, D]);
      k = reshape(applyRope(reshape(k0, [B, T, nh, hd]), o.rope), [B, T, D]);
    }
    const attrs = { q_num_heads: { i: nh }, kv_num_heads: { i: nh }, scale: { f: 1 / Math.sqrt(hd) } };
    const out = g.op('Attention', [q, k, v0], attrs, [B, T, D], x.dtype); // (B, T, D)
    return { y: autocastLinear(out, p('attn.proj.weight'), p('attn.proj.bias')) };
  }
  let q4 = reshape(mul(q0, 1 / Math.sqrt(hd)), [B, T, nh, hd]); // (B, T, nh, hd), scaled
  let k4 = reshape(k0, [B, T, nh, hd]); // (B, T, nh, hd)
  if (o.rope) {
    q4 = applyRope(q4, o.rope);
    k4 = applyRope(k4, o.rope);
  }
  const q = transpose(q4, [0, 2, 1, 3]); // (B, nh, T, hd)
  const kT = transpose(k4, [0, 2, 3, 1]); // (B, nh, hd, T)
  const v = transpose(reshape(v0, [B, T, nh, hd]), [0, 2, 1, 3]); // (B, nh, T, hd)
  const scores = (): Tensor => softmax(autocastMatmul(q, kT), -1); // (B, nh, T, T)
  const a = o.remat ? g.remat(scores) : scores();
  const out = reshape(transpose(autocastMatmul(a, v), [0, 2, 1, 3]), [B, T, D]); // (B, nh, T, hd) → (B, T, nh, hd) → (B, T, D)
  const y = autocastLinear(out, p('attn.proj.weight'), p('attn.proj.bias')); // (B, T, D)
  if (!o.clsAttention) return { y };
  return { y, clsAttention: reshape(slice(a, [2], [0], [1]), [B, nh, T]) }; // (B, nh, 1, T) → (B, nh, T)
}

// The feed-forward branch: MLP (fc1 → exact GELU → fc2) or SwiGLU (Shazeer, "GLU Variants Improve
// Transformer"): DINOv2's fused w12 (one Linear to 2h', chunked [x1 | x2]) or DINOv3's separate w1, w2;
// both w3(silu(x1) · x2).
import { add, div, exp, gelu, mul, neg, silu } from '../graph/ops/elementwise.js';
import { autocastLinear } from '../graph/amp.js';
import { split } from '../graph/ops/shape.js';
import { type Tensor } from '../graph/tensor.js';
import { type ViTConfig } from './config.js';

/** Looks up a parameter of block i by its canonical suffix (`mlp.fc1.weight`). */
export type BlockParam = (suffix: string) => Tensor;

/**
 * SiLU x·σ(x). In float64 it is written x / (1 + e^(−x)): onnxruntime fuses Mul(x, Sigmoid(x)) into
 * com.microsoft.QuickGelu, which has only a float kernel, so the float64 session would fail to load.
 */
function swish(x: Tensor): Tensor {
  return x.dtype === 'float64' ? div(x, add(exp(neg(x)), 1)) : silu(x);
}

/** x (B, T, D) → (B, T, D). */
export function ffn(x: Tensor, p: BlockParam, c: ViTConfig): Tensor {
  if (c.ffn === 'mlp') {
    const h = gelu(autocastLinear(x, p('mlp.fc1.weight'), p('mlp.fc1.bias'))); // (B, T, H)
    return autocastLinear(h, p('mlp.fc2.weight'), p('mlp.fc2.bias')); // (B, T, D)
  }
  let x1: Tensor;
  let x2: Tensor;
  if (c.arch === 'dinov2') {
    const x12 = autocastLinear(x, p('mlp.w12.weight'), p('mlp.w12.bias')); // (B, T, 2h')
    [x1, x2] = split(x12, 2, -1); // (B, T, h') each
  } else {
    x1 = autocastLinear(x, p('mlp.w1.weight'), p('mlp.w1.bias')); // (B, T, d)
    x2 = autocastLinear(x, p('mlp.w2.weight'), p('mlp.w2.bias')); // (B, T, d)
  }
  return autocastLinear(mul(swish(x1), x2), p('mlp.w3.weight'), p('mlp.w3.bias')); // (B, T, D)
}

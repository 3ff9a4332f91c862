// Patch embedding: a Conv2d(C → D, kernel = stride = p) written as patchify + one Gemm, so it runs in
// float64 and on every provider. Tokens come out row-major over the patch grid (h outer, w inner), as
// PyTorch's conv(x).flatten(2).transpose(1, 2).
import { autocastLinear } from '../graph/amp.js';
import { convPatches, patchify } from '../graph/ops/linalg.js';
import { reshape, transpose } from '../graph/ops/shape.js';
import { dimMul } from '../graph/sym.js';
import { type Tensor } from '../graph/tensor.js';

/**
 * images (B, C, H, W) → tokens (B, N, D) with N = (H/p)·(W/p). `weight` is the graph layout of
 * `patch_embed.proj.weight`, (C·p·p, D) with rows ordered (c, i, j); `bias` is (D).
 */
export function patchEmbed(images: Tensor, weight: Tensor, bias: Tensor, p: number): Tensor {
  if (images.symbolic) {
    // Sizes known at run time: one ONNX Conv (B, C, H, W) → (B, D, h, w), inference only.
    const [CPP, D] = weight.shape;
    const kernel = reshape(transpose(weight), [D, CPP / (p * p), p, p]); // (C·p·p, D) → (D, C·p·p) → (D, C, p, p)
    const y = convPatches(images, kernel, bias, p); // (B, D, h, w)
    const [B, , h, w] = y.dims;
    return transpose(reshape(y, [B, D, dimMul(h, w)]), [0, 2, 1]); // (B, D, h·w) → (B, N, D)
  }
  const patches = patchify(images, p); // (B, N, C·p·p)
  return autocastLinear(patches, weight, bias); // (B, N, D)
}

// Patch embedding: a Conv2d(C → D, kernel = stride = p) written as patchify + one Gemm, so it runs in
// float64 and on every provider. Tokens come out row-major over the patch grid (h outer, w inner), as
// PyTorch's conv(x).flatten(2).transpose(1, 2).
import { linear, patchify } from '../graph/ops/linalg.js';
import { type Tensor } from '../graph/tensor.js';

/**
 * images (B, C, H, W) → tokens (B, N, D) with N = (H/p)·(W/p). `weight` is the graph layout of
 * `patch_embed.proj.weight`, (C·p·p, D) with rows ordered (c, i, j); `bias` is (D).
 */
export function patchEmbed(images: Tensor, weight: Tensor, bias: Tensor, p: number): Tensor {
  const patches = patchify(images, p); // (B, N, C·p·p)
  return linear(patches, weight, bias); // (B, N, D)
}

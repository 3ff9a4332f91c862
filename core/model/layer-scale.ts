// LayerScale (Touvron et al., "Going deeper with Image Transformers"): a learned per-channel gain γ ∈ R^D on
// each residual branch; absent when the config disables it.
import { mul } from '../graph/ops/elementwise.js';
import { type Tensor } from '../graph/tensor.js';

/** x (…, D) · γ (D), or x itself when there is no γ. */
export function layerScale(x: Tensor, gamma: Tensor | undefined): Tensor {
  return gamma ? mul(x, gamma) : x;
}

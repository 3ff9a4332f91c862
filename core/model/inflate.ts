// Patch-embedding inflation: an RGB model becomes a C-channel model for continued pretraining on a fixed
// fluorescence panel (the dinov3 multi-channel recipe: every new input channel starts from the mean of the
// RGB filters, scaled so the sum over channels keeps the response). Here the two input normalisations are
// folded in too, so the inflated model's output on a grey image replicated to C channels (each normalised
// with CHANNEL_MEAN / CHANNEL_STD) EQUALS the RGB model's output on the same grey replicated to RGB
// (normalised with the ImageNet statistics), up to float rounding:
//   RGB:      Σ_c W_c (s − m_c)/σ_c + b
//   inflated: Σ_k W'_k (s − μ)/τ + b'   with W'_k = (τ/C) Σ_c W_c/σ_c,   b' = b + Σ_{c,i,j} W_c (μ − m_c)/σ_c
// Only patch_embed.proj.{weight, bias} change; every other parameter is the RGB model's.
import { DinoscopeError } from '../common/errors.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, validateConfig } from './config.js';
import { CHANNEL_MEAN, CHANNEL_STD, IMAGENET_MEAN, IMAGENET_STD } from './input-norm.js';

const W = 'patch_embed.proj.weight';
const B = 'patch_embed.proj.bias';

export interface Inflated {
  config: ViTConfig;
  /** PyTorch layout; patch_embed.proj.weight is (D, C, p, p). */
  weights: Record<string, HostTensor>;
}

/** The C-channel model inflated from an RGB model's config and PyTorch-layout weights. */
export function inflatePatchEmbed(config: ViTConfig, weights: Record<string, HostTensor>, channels: number): Inflated {
  if (config.inChans !== 3)
    throw new DinoscopeError('BAD_INPUT', `only an RGB model (3 input channels) can be inflated; this one has ${config.inChans}`);
  if (!Number.isInteger(channels) || channels < 1)
    throw new DinoscopeError('BAD_INPUT', `channels must be a positive integer, got ${channels}`);
  const w = weights[W];
  const b = weights[B];
  if (!w || !b) throw new DinoscopeError('BAD_INPUT', `the model has no ${!w ? W : B}`);
  const [D, C0, p, q] = w.dims;
  if (C0 !== 3 || w.dims.length !== 4) throw new DinoscopeError('BAD_INPUT', `${W} is [${w.dims.join(', ')}], expected [D, 3, p, p]`);
  const pq = p * q;
  const src = w.data as Float32Array | Float64Array;
  const bias = b.data as Float32Array | Float64Array;
  const Ctor = w.dtype === 'float64' ? Float64Array : Float32Array;
  const outW = new Ctor(D * channels * pq); // (D, C, p, q)
  const outB = new Ctor(D);
  for (let d = 0; d < D; d++) {
    let shift = 0; // Σ_{c,i,j} W_c (μ − m_c)/σ_c, in float64
    for (let k = 0; k < pq; k++) {
      let merged = 0; // Σ_c W_c/σ_c at kernel position k
      for (let c = 0; c < 3; c++) {
        const v = src[(d * 3 + c) * pq + k];
        merged += v / IMAGENET_STD[c];
        shift += (v * (CHANNEL_MEAN - IMAGENET_MEAN[c])) / IMAGENET_STD[c];
      }
      const per = (CHANNEL_STD / channels) * merged;
      for (let c = 0; c < channels; c++) outW[(d * channels + c) * pq + k] = per;
    }
    outB[d] = bias[d] + shift;
  }
  const cfg: ViTConfig = { ...config, inChans: channels };
  validateConfig(cfg);
  return {
    config: cfg,
    weights: { ...weights, [W]: hostTensor(w.dtype, [D, channels, p, q], outW), [B]: hostTensor(b.dtype, [D], outB) },
  };
}

// Training precision (config runtime.precision): 'fp32', or 'mixed' (core/graph/amp.ts: float16 products on
// float32 master weights, dynamic loss scaling) for the student step. 'auto' is mixed where the run's
// provider runs float16 kernels — CUDA, and WebGPU on an adapter with the shader-f16 feature (the hardware
// probe's `float16`) — and fp32 on the CPU, whose onnxruntime kernels for float16 are few and slow. An explicit
// 'mixed' where it cannot run falls back to fp32 with one plain-words warning line, as an unavailable device
// does. bfloat16 is not offered: WGSL has no bfloat16 type, so onnxruntime's WebGPU provider has no bf16 kernels.
import type { TrainHardware } from '../common/api.js';
import type { LossScaleOptions } from '../graph/amp.js';
import type { Provider } from '../graph/runtime.js';

export type PrecisionRequest = 'auto' | 'fp32' | 'mixed';
export const PRECISION_REQUESTS: readonly PrecisionRequest[] = ['auto', 'fp32', 'mixed'];

/** What a run trains in. */
export type Precision = 'fp32' | 'mixed';

/** What the student step graph is built with: its precision and, mixed, the loss scaling (default GradScaler's). */
export interface StepPrecision {
  precision: Precision;
  lossScale?: LossScaleOptions;
}

export interface PrecisionChoice {
  precision: Precision;
  /** One line for the log: the precision and why, or the warning when mixed was asked for and cannot run. */
  line: string;
  /** 'mixed' was asked for and the provider cannot run it: fp32 instead. */
  fellBack: boolean;
}

/** Whether `provider` runs float16 kernels, as far as the probe `hw` says (cuda: always; webgpu: the adapter's shader-f16). */
export function runsFloat16(provider: Provider, hw: TrainHardware | null): boolean {
  if (provider === 'cuda') return true;
  if (provider !== 'webgpu') return false;
  return hw?.providers.find((p) => p.name === 'webgpu')?.float16 === true;
}

/** The precision of a run on `provider` for `request`; `float16`: whether that provider runs float16 kernels. */
export function resolvePrecision(request: PrecisionRequest, provider: Provider, float16: boolean): PrecisionChoice {
  // Why a provider does not run mixed precision, in plain words.
  const why =
    provider === 'cpu'
      ? 'this run trains on the CPU'
      : provider === 'webgpu'
        ? 'this WebGPU adapter lacks float16 support, the shader-f16 feature'
        : `${provider} is not one`;
  if (request === 'fp32') return { precision: 'fp32', line: 'precision: fp32 (as asked).', fellBack: false };
  if (request === 'auto')
    return float16
      ? {
          precision: 'mixed',
          line: `precision: auto → mixed (float16 products on ${provider}, float32 master weights, dynamic loss scaling).`,
          fellBack: false,
        }
      : { precision: 'fp32', line: `precision: auto → fp32 (${provider === 'cpu' ? 'on the CPU' : why}).`, fellBack: false };
  if (float16) return { precision: 'mixed', line: `precision: mixed (as asked; float16 products on ${provider}).`, fellBack: false };
  return {
    precision: 'fp32',
    line: `warning: mixed precision needs a GPU that runs float16, and ${why}. Training runs in fp32 instead. Choose precision auto or fp32 to silence this.`,
    fellBack: true,
  };
}

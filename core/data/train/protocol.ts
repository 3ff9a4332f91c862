// Messages between the Prefetcher and its crop workers: a discriminated union with request ids. Tensors
// cross as transferable ArrayBuffers (listed in `transfer`), never copied.
import type { ErrorEnvelope } from '../../common/errors.js';
import type { BatchConfig, BatchTile, StepSizes } from './batch.js';
import type { SamplingPlan } from './sampler.js';

export type ToWorker =
  | { type: 'init'; id: number; worker: number; plan: SamplingPlan; config: BatchConfig }
  | { type: 'produce'; id: number; step: number; sizes?: StepSizes }
  | { type: 'close'; id: number };

/** A batch as it crosses the thread boundary (the MaskBatch / CropBatch fields, flattened). */
export interface BatchMessage {
  type: 'batch';
  id: number;
  step: number;
  global: Float32Array;
  local: Float32Array;
  /** (2B, 3, S, S) Gram crops, or null without Gram anchoring. */
  gram: Float32Array | null;
  sizes: StepSizes;
  masks: Uint8Array;
  indices: Int32Array;
  weights: Float32Array;
  count: number;
  upperBound: number;
  tiles: BatchTile[];
  /** Time the worker spent producing it. */
  ms: number;
}

export type FromWorker =
  { type: 'ready'; id: number } | BatchMessage | { type: 'error'; id: number; error: ErrorEnvelope } | { type: 'closed'; id: number };

/** The buffers of a batch message, for postMessage's transfer list. */
export function transferList(m: BatchMessage): ArrayBuffer[] {
  const bufs = [m.global.buffer, m.local.buffer, m.masks.buffer, m.indices.buffer, m.weights.buffer] as ArrayBuffer[];
  if (m.gram) bufs.push(m.gram.buffer as ArrayBuffer);
  return bufs;
}

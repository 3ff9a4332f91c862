// Feature maps as safetensors: one tensor "features" of shape (gridHeight, gridWidth, dim) (patch-major,
// as numpy/PyTorch users index a map: features[y, x]), float16 by default, plus "mask" (gridHeight,
// gridWidth) as 0/1 float when given. The grid geometry goes into the string metadata so the file alone
// says where each patch sits: stride, origin_x, origin_y (level-0 pixels), mpp (µm per pixel or ""), and
// whatever the caller adds (model id, image id).
import { writeSafetensors, type TensorToWrite } from '../../model/weights/safetensors.js';
import type { FeatureGridSource, GridGeometry } from './feature-grid.js';

export interface SafetensorsMapOptions {
  dtype?: 'F16' | 'F32';
  /** (gridHeight, gridWidth), 1 = tissue. */
  mask?: Uint8Array;
  metadata?: Record<string, string>;
}

export async function writeFeatureSafetensors(
  path: string,
  source: FeatureGridSource,
  geometry: GridGeometry,
  opts: SafetensorsMapOptions = {},
): Promise<void> {
  const { gridWidth: w, gridHeight: h, dim } = source;
  const features = await source.readRect(0, 0, w, h); // (h, w, dim)
  const tensors = new Map<string, TensorToWrite>([['features', { shape: [h, w, dim], data: features, dtype: opts.dtype ?? 'F16' }]]);
  if (opts.mask) tensors.set('mask', { shape: [h, w], data: Float32Array.from(opts.mask, (v) => (v ? 1 : 0)), dtype: 'F32' });
  await writeSafetensors(path, tensors, {
    format: 'dinoscope-feature-map',
    layout: 'features[y, x, channel]',
    stride: String(geometry.stride),
    origin_x: String(geometry.origin.x),
    origin_y: String(geometry.origin.y),
    mpp: geometry.mpp === null ? '' : String(geometry.mpp),
    ...opts.metadata,
  });
}

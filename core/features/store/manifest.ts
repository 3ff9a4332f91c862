// The per-image feature store's manifest (FORMAT.md): what produced the grid and where it sits on the image.
import type { FeatureInput } from '../../common/feature-input.js';

export interface StoreManifest {
  format: 'dinoscope-features';
  version: 1;
  modelId: string;
  /** Hash of the model's full config (architecture and weights identity), to refuse mixing models. */
  modelConfigHash: string;
  /** Pyramid level the model read, and its microns per pixel (null when the image has none). */
  level: number;
  mpp: number | null;
  /** Level-0 pixels between neighbouring patches (patch size × downsample of `level`). */
  stride: number;
  /** Level-0 pixel of patch (0, 0)'s top-left corner. */
  origin: { x: number; y: number };
  gridWidth: number;
  gridHeight: number;
  dim: number;
  dtype: 'float16';
  /** Patches per chunk along y and x (every chunk holds all `dim` channels). */
  chunk: { height: number; width: number };
  /**
   * How much context the features saw (core/features/extract/context.ts): 'whole' = one forward pass over
   * the whole grid; 'tiled' = chunk-sized cores in windows with `tiling.margin` patches of context. Absent
   * in stores written before this field (tiles that read white past the image edge).
   */
  context?: 'whole' | 'tiled';
  /** The tile layout of a 'tiled' store (core = chunk side), in patches. */
  tiling?: { core: number; margin: number };
  /**
   * The onnxruntime execution providers that computed its chunks ('cpu', 'webgpu', 'cuda'), in order of
   * first use: a resume on another provider keeps the store and appends it (their features agree to ~1e-5
   * of their RMS). Absent in stores written before this field (cpu).
   */
  providers?: string[];
  /**
   * How a multi-channel image became model input (core/features/extract/input.ts): 'channels' (a C-channel
   * model) or 'per-channel' (an RGB model on each channel as grey, features concatenated: dim C·D), the
   * channel names, the scaling and this image's per-channel windows. Absent: RGB.
   */
  input?: FeatureInput;
}

export type StoreManifestInput = Omit<StoreManifest, 'format' | 'version' | 'dtype'>;

/** Chunks along y and x. */
export function chunkCounts(m: StoreManifest): { ny: number; nx: number } {
  return { ny: Math.ceil(m.gridHeight / m.chunk.height), nx: Math.ceil(m.gridWidth / m.chunk.width) };
}

/** The group's zarr.json: Zarr v3 group with OME-Zarr 0.5 multiscales and our manifest. */
export function groupMetadata(m: StoreManifest): object {
  const unit = m.mpp === null ? {} : { unit: 'micrometer' };
  const px = m.mpp ?? 1; // level-0 pixels → micrometres when known
  return {
    zarr_format: 3,
    node_type: 'group',
    attributes: {
      ome: {
        version: '0.5',
        multiscales: [
          {
            name: 'features',
            axes: [
              { name: 'c', type: 'channel' },
              { name: 'y', type: 'space', ...unit },
              { name: 'x', type: 'space', ...unit },
            ],
            datasets: [
              {
                path: '0',
                coordinateTransformations: [
                  { type: 'scale', scale: [1, m.stride * px, m.stride * px] },
                  { type: 'translation', translation: [0, m.origin.y * px, m.origin.x * px] },
                ],
              },
            ],
          },
        ],
      },
      dinoscope: m,
    },
  };
}

/** Zarr v3 array metadata: raw little-endian chunks ("bytes" codec only), "/"-separated chunk keys. */
export function arrayMetadata(shape: number[], chunks: number[], dataType: 'float16' | 'uint8', dims: string[]): object {
  return {
    zarr_format: 3,
    node_type: 'array',
    shape,
    data_type: dataType,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    dimension_names: dims,
    attributes: {},
  };
}

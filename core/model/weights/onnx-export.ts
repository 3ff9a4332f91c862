// Standalone ONNX inference export: the backbone with its weights embedded as initializers, for any
// onnxruntime (or other ONNX runtime) without Dinoscope. Input 'images' (B, 3, H, W), float32, RGB
// normalised with the model's training mean/std (ImageNet: 0.485, 0.456, 0.406 / 0.229, 0.224, 0.225);
// outputs 'cls' (B, D), 'registers' (B, R, D), 'patches' (B, ⌊H/p⌋·⌊W/p⌋, D), and on request 'attention'
// and 'tokenNorms'.
//
// By default batch, height and width are DYNAMIC (ONNX dim_param 'batch', 'height', 'width'): one file
// runs at any size. The grid-dependent parts are computed in the graph (core/graph symbolic dims): the
// patch embedding is a Conv, DINOv2's position embedding is resized by ONNX Resize set up like PyTorch's
// call for the model's variant (pos-embed.ts), DINOv3's RoPE tables come from Range. H and W should be
// multiples of the patch size (the reference's sizes; other sizes are floored like the Conv does).
// Giving batch, or height and width, fixes those dims instead (the static graph: pos-embed resize
// matrices and RoPE tables built for one grid). One protobuf is limited to 2 GB, so models above ~500M
// float32 parameters (ViT-g) cannot be exported this way.
import { DinoscopeError } from '../../common/errors.js';
import { serialize } from '../../graph/onnx.js';
import { type Dim } from '../../graph/sym.js';
import { hostTensor, type HostTensor } from '../../graph/tensor.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type ViTConfig, patchGrid } from '../config.js';
import { type InferenceOutput, inferenceGraph } from '../inference.js';
import { CHANNEL_MEAN, CHANNEL_STD } from '../input-norm.js';
import { paramCount, paramSpecs } from '../params.js';
import type { WeightTensor } from './safetensors.js';

export interface OnnxExportOptions {
  /** Fixes the batch size (default: dynamic, dim_param 'batch'). */
  batch?: number;
  /** Fix height and width together (default: both dynamic, dim_params 'height' and 'width'). */
  height?: number;
  width?: number;
  /** Default cls, registers, patches. */
  outputs?: InferenceOutput[];
}

export interface OnnxExportResult {
  path: string;
  bytes: number;
  /** Dims as numbers where fixed, dim_param names/expressions where dynamic ('batch', '(height/14)*(width/14)'). */
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;

const dimJson = (d: Dim): number | string => (typeof d === 'number' ? d : d.key);

/** Builds the inference graph with embedded weights and writes it atomically to `path`. */
export async function exportOnnx(
  path: string,
  cfg: ViTConfig,
  tensors: ReadonlyMap<string, WeightTensor>,
  o: OnnxExportOptions = {},
): Promise<OnnxExportResult> {
  if (o.batch !== undefined && (!Number.isInteger(o.batch) || o.batch < 1))
    throw new DinoscopeError('BAD_INPUT', `ONNX export: batch must be a positive integer (got ${o.batch}).`);
  if ((o.height === undefined) !== (o.width === undefined))
    throw new DinoscopeError('BAD_INPUT', 'ONNX export: give both height and width, or neither (dynamic).');
  if (o.height !== undefined && o.width !== undefined) patchGrid(cfg, o.height, o.width); // BAD_INPUT unless both are multiples of the patch size
  if (paramCount(cfg) * 4 > PROTOBUF_LIMIT * 0.95)
    throw new DinoscopeError('UNSUPPORTED', `ONNX export: ${paramCount(cfg)} float32 parameters exceed the 2 GB limit of one ONNX file.`);
  const values: Record<string, HostTensor> = {};
  for (const s of paramSpecs(cfg)) {
    const t = tensors.get(s.name);
    if (!t) throw new DinoscopeError('BAD_INPUT', `ONNX export: the weights lack ${s.name}.`);
    values[s.name] = hostTensor('float32', t.shape, t.data);
  }
  const ig = inferenceGraph(cfg, {
    batch: o.batch ?? 'batch',
    height: o.height ?? 'height',
    width: o.width ?? 'width',
    weights: 'initializers',
    values,
    outputs: o.outputs ?? ['cls', 'registers', 'patches'],
  });
  const pixels =
    cfg.inChans === 3
      ? 'RGB normalised by the training mean/std'
      : `${cfg.inChans} fluorescence channels, each scaled to [0, 1] by its 1st–99.9th percentile window over the image, then (x − ${CHANNEL_MEAN.toFixed(4)}) / ${CHANNEL_STD.toFixed(4)}`;
  const input = `images (B, ${cfg.inChans}, H, W) float32, ${pixels}${o.height === undefined ? `, H and W multiples of ${cfg.patchSize}` : ''}`;
  const doc = JSON.stringify({ dinoscope: 'vit-inference', input, config: cfg });
  const bytes = serialize(ig.graph, { docString: doc });
  await writeFileAtomic(path, bytes);
  return {
    path,
    bytes: bytes.length,
    inputs: ig.graph.inputs.map((t) => ({ name: t.name, shape: t.dims.map(dimJson) })),
    outputs: ig.graph.outputs.map((t) => ({ name: t.name, shape: t.dims.map(dimJson) })),
  };
}

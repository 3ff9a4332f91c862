// Standalone ONNX inference export: the backbone with its weights embedded as initializers, for any
// onnxruntime (or other ONNX runtime) without Dinoscope. Input 'images' (B, 3, H, W), float32, RGB
// normalised with the model's training mean/std (ImageNet: 0.485, 0.456, 0.406 / 0.229, 0.224, 0.225);
// outputs 'cls' (B, D), 'registers' (B, R, D), 'patches' (B, H/p · W/p, D), and on request 'attention'
// and 'tokenNorms'.
//
// Shapes are FIXED at export (batch, height, width): core/graph builds static-shape graphs (every Reshape
// carries its constants, the position embedding is resized for one grid at build time, RoPE tables are
// built for one grid), so dynamic batch/height/width needs symbolic dimensions in core/graph first —
// export once per tile size until then. One protobuf is limited to 2 GB, so models above ~500M float32
// parameters (ViT-g) cannot be exported this way.
import { DinoscopeError } from '../../common/errors.js';
import { serialize } from '../../graph/onnx.js';
import { hostTensor, type HostTensor } from '../../graph/tensor.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type ViTConfig, patchGrid } from '../config.js';
import { type InferenceOutput, inferenceGraph } from '../inference.js';
import { paramCount, paramSpecs } from '../params.js';
import type { WeightTensor } from './safetensors.js';

export interface OnnxExportOptions {
  batch: number;
  height: number;
  width: number;
  /** Default cls, registers, patches. */
  outputs?: InferenceOutput[];
}

export interface OnnxExportResult {
  path: string;
  bytes: number;
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Builds the inference graph with embedded weights and writes it atomically to `path`. */
export async function exportOnnx(path: string, cfg: ViTConfig, tensors: ReadonlyMap<string, WeightTensor>, o: OnnxExportOptions): Promise<OnnxExportResult> {
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new DinoscopeError('BAD_INPUT', `ONNX export: batch must be a positive integer (got ${o.batch}).`);
  patchGrid(cfg, o.height, o.width); // BAD_INPUT unless both are multiples of the patch size
  if (paramCount(cfg) * 4 > PROTOBUF_LIMIT * 0.95) throw new DinoscopeError('UNSUPPORTED', `ONNX export: ${paramCount(cfg)} float32 parameters exceed the 2 GB limit of one ONNX file.`);
  const values: Record<string, HostTensor> = {};
  for (const s of paramSpecs(cfg)) {
    const t = tensors.get(s.name);
    if (!t) throw new DinoscopeError('BAD_INPUT', `ONNX export: the weights lack ${s.name}.`);
    values[s.name] = hostTensor('float32', t.shape, t.data);
  }
  const ig = inferenceGraph(cfg, { batch: o.batch, height: o.height, width: o.width, weights: 'initializers', values, outputs: o.outputs ?? ['cls', 'registers', 'patches'] });
  const doc = JSON.stringify({ dinoscope: 'vit-inference', input: 'images (B, 3, H, W) float32, RGB normalised by the training mean/std', config: cfg });
  const bytes = serialize(ig.graph, { docString: doc });
  await writeFileAtomic(path, bytes);
  return {
    path,
    bytes: bytes.length,
    inputs: [{ name: 'images', shape: [o.batch, cfg.inChans, o.height, o.width] }],
    outputs: ig.graph.outputs.map((t) => ({ name: t.name, shape: [...t.shape] })),
  };
}

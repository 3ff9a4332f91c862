// The backbone as a compiled onnxruntime session for one tile shape: (B, 3, S, S) → the outputs asked for.
// Weights are embedded as initializers so a run feeds only the images.
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { hostTensor, type HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import { inferenceGraph, type InferenceOutput } from '../../model/inference.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

export interface TileModelOptions {
  batch: number;
  /** Tile side in pixels (a multiple of the patch size). */
  side: number;
  outputs: InferenceOutput[];
  threads?: number;
}

export class TileModel {
  private constructor(
    readonly config: ViTConfig,
    readonly options: TileModelOptions,
    private readonly session: Session,
  ) {}

  static async create(config: ViTConfig, weights: ReadonlyMap<string, WeightTensor> | Record<string, HostTensor>, o: TileModelOptions): Promise<TileModel> {
    const values: Record<string, HostTensor> = {};
    if (weights instanceof Map) for (const [k, t] of weights) values[k] = hostTensor('float32', t.shape, t.data);
    else Object.assign(values, weights);
    const ig = inferenceGraph(config, { batch: o.batch, height: o.side, width: o.side, weights: 'initializers', values, outputs: o.outputs });
    const session = await Session.create(serialize(ig.graph), { intraOpThreads: o.threads, interOpThreads: 1 });
    return new TileModel(config, o, session);
  }

  /** images: (B, 3, S, S) normalised float32. Returns the requested outputs as float32 host arrays. */
  async run(images: Float32Array): Promise<Record<string, Float32Array>> {
    const { batch, side } = this.options;
    const res = await this.session.run({ images: hostTensor('float32', [batch, 3, side, side], images) });
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(res)) out[k] = v.data as Float32Array;
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

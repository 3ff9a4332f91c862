// The backbone as a compiled onnxruntime session for one input shape: (B, C, H, W) → the outputs asked
// for. Tiles are square (side); a one-pass image is its own rectangle (height × width). Weights are
// embedded as initializers so a run feeds only the images.
import { serialize } from '../../graph/onnx.js';
import { Session, type Provider } from '../../graph/runtime.js';
import { hostTensor, type HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import { inferenceGraph, type InferenceOutput } from '../../model/inference.js';
import type { DinoTxtConfig } from '../../model/text/config.js';
import { dinoTxtVisionGraph } from '../../model/text/graphs.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

export interface TileModelOptions {
  batch: number;
  /** Square input side in pixels (a multiple of the patch size); or give height and width. */
  side?: number;
  height?: number;
  width?: number;
  outputs: InferenceOutput[];
  threads?: number;
  /** Execution providers in preference order (default cpu); cpu is the fallback, with a warning. */
  providers?: Provider[];
  warn?: (message: string) => void;
  /** A dino.txt vision head on the backbone: 'patches' are then its patch embeddings (E/2 wide), which
   * text queries score (core/model/text). Only 'patches' (and 'cls') can be asked for. */
  head?: { config: DinoTxtConfig; values: ReadonlyMap<string, HostTensor> };
}

export type ModelWeights = ReadonlyMap<string, WeightTensor> | Record<string, HostTensor>;

export class TileModel {
  private constructor(
    readonly config: ViTConfig,
    readonly options: TileModelOptions,
    /** Input height and width in pixels. */
    readonly height: number,
    readonly width: number,
    private readonly session: Session,
  ) {}

  static async create(config: ViTConfig, weights: ModelWeights, o: TileModelOptions): Promise<TileModel> {
    const height = o.height ?? o.side;
    const width = o.width ?? o.side;
    if (height === undefined || width === undefined) throw new Error('TileModel: give side, or height and width');
    const values: Record<string, HostTensor> = {};
    if (weights instanceof Map) for (const [k, t] of weights) values[k] = hostTensor('float32', t.shape, t.data);
    else Object.assign(values, weights);
    let graph;
    if (o.head) {
      const other = o.outputs.find((x) => x !== 'patches' && x !== 'cls');
      if (other) throw new Error(`TileModel: a dino.txt model has no output ${other}`);
      graph = dinoTxtVisionGraph(config, values, o.head.config, o.head.values, { batch: o.batch, height, width });
    } else {
      // On onnxruntime's CPU provider alone, attention as one Attention node (GraphLowering.attentionOp);
      // a GPU provider's session keeps the opset-20 graph whose placement is measured.
      const cpuOnly = (o.providers ?? ['cpu']).every((p) => p === 'cpu');
      graph = inferenceGraph(config, {
        batch: o.batch,
        height,
        width,
        weights: 'initializers',
        values,
        outputs: o.outputs,
        lowering: cpuOnly ? { attentionOp: true } : {},
      }).graph;
    }
    const session = await Session.create(serialize(graph), {
      intraOpThreads: o.threads,
      interOpThreads: 1,
      providers: o.providers,
      warn: o.warn,
    });
    return new TileModel(config, o, height, width, session);
  }

  /** Width of the 'patches' output: the backbone's, or the dino.txt head's E/2. */
  get featureDim(): number {
    return this.options.head ? this.options.head.config.embedDim / 2 : this.config.dim;
  }

  /** The execution provider that runs the model. */
  get provider(): Provider {
    return this.session.provider;
  }

  /** images: (B, C, H, W) normalised float32 (C = the model's inChans). Returns the requested outputs as float32 host arrays. */
  async run(images: Float32Array): Promise<Record<string, Float32Array>> {
    const res = await this.session.run({
      images: hostTensor('float32', [this.options.batch, this.config.inChans, this.height, this.width], images),
    });
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(res)) out[k] = v.data as Float32Array;
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

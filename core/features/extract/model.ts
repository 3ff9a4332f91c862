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
  /** Images per run: on onnxruntime's CPU provider the most a run takes (fewer run at their own cost), elsewhere exactly. */
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
    /** A view of a shared any-size session (`sized`): its owner releases the session, not the view. */
    private readonly view = false,
    /** The session's batch is symbolic: a run feeds as many images as it has. */
    readonly dynamicBatch = false,
  ) {}

  /**
   * One session for every image size, on onnxruntime's CPU provider: the graph's height and width are
   * symbolic (the position embedding interpolated in the graph), so a collection of differently sized images
   * compiles the model once instead of once per size. `sized(h, w)` gives the model for one size. A GPU
   * provider keeps a session per size (core/graph README: in-graph shape arithmetic would run on the CPU).
   */
  static async createAnySize(
    config: ViTConfig,
    weights: ModelWeights,
    o: Omit<TileModelOptions, 'side' | 'height' | 'width'>,
  ): Promise<AnySizeTileModel> {
    if (!cpuOnly(o.providers)) throw new Error('TileModel: any size runs on the cpu provider only');
    const session = await compile(config, weights, o, 'height', 'width');
    return {
      sized: (height, width) => new TileModel(config, { ...o, height, width }, height, width, session, true),
      release: () => session.release(),
      provider: session.provider,
    };
  }

  static async create(config: ViTConfig, weights: ModelWeights, o: TileModelOptions): Promise<TileModel> {
    const height = o.height ?? o.side;
    const width = o.width ?? o.side;
    if (height === undefined || width === undefined) throw new Error('TileModel: give side, or height and width');
    // On the CPU the batch is symbolic, so a partial batch (an image's last tiles) costs its own tiles, not B.
    // A GPU provider and a dino.txt head keep the static batch (as they keep static sizes).
    const dynamicBatch = cpuOnly(o.providers) && !o.head && o.batch > 1;
    return new TileModel(config, o, height, width, await compile(config, weights, o, height, width, dynamicBatch), false, dynamicBatch);
  }

  /** Width of the 'patches' output: the backbone's, or the dino.txt head's E/2. */
  get featureDim(): number {
    return this.options.head ? this.options.head.config.embedDim / 2 : this.config.dim;
  }

  /** The execution provider that runs the model. */
  get provider(): Provider {
    return this.session.provider;
  }

  /**
   * images: (B, C, H, W) normalised float32 (C = the model's inChans), of which the first `count` (default B) are
   * real. Returns the requested outputs of those `count` images as float32 host arrays (batch first). With a
   * symbolic batch only they are computed; otherwise the whole batch is, and the rest of it dropped.
   */
  async run(images: Float32Array, count = this.options.batch): Promise<Record<string, Float32Array>> {
    const B = this.options.batch;
    if (!Number.isInteger(count) || count < 1 || count > B) throw new Error(`TileModel: ${count} images for a batch of ${B}`);
    const n = this.dynamicBatch ? count : B;
    const per = this.config.inChans * this.height * this.width;
    const res = await this.session.run({
      images: hostTensor('float32', [n, this.config.inChans, this.height, this.width], n === B ? images : images.subarray(0, n * per)),
    });
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(res)) {
      const data = v.data as Float32Array;
      out[k] = count === n ? data : data.subarray(0, (data.length / n) * count);
    }
    return out;
  }

  async release(): Promise<void> {
    if (!this.view) await this.session.release();
  }
}

/** A model compiled once for any input size (TileModel.createAnySize). */
export interface AnySizeTileModel {
  /** The model for (height, width) in pixels, multiples of the patch size; it shares this session. */
  sized(height: number, width: number): TileModel;
  release(): Promise<void>;
  readonly provider: Provider;
}

/** Whether a session goes to onnxruntime's CPU provider alone (the default). */
export function cpuOnly(providers: readonly string[] | undefined): boolean {
  return (providers ?? ['cpu']).every((p) => p === 'cpu');
}

/** The session of the backbone (or a dino.txt vision model) for (batch, height, width); a dimension given by name
 * is symbolic, and so is the batch with `dynamicBatch`. On the CPU provider alone, attention as one Attention
 * node (GraphLowering.attentionOp); a GPU provider's session keeps the opset-20 graph whose placement is
 * measured. */
async function compile(
  config: ViTConfig,
  weights: ModelWeights,
  o: Omit<TileModelOptions, 'side' | 'height' | 'width'>,
  height: number | string,
  width: number | string,
  dynamicBatch = false,
): Promise<Session> {
  const values = hostValues(weights);
  let graph;
  if (o.head) {
    if (typeof height !== 'number' || typeof width !== 'number') throw new Error('TileModel: a dino.txt head needs a fixed size');
    const other = o.outputs.find((x) => x !== 'patches' && x !== 'cls');
    if (other) throw new Error(`TileModel: a dino.txt model has no output ${other}`);
    graph = dinoTxtVisionGraph(config, values, o.head.config, o.head.values, { batch: o.batch, height, width });
  } else {
    const lowering = cpuOnly(o.providers) ? { attentionOp: true } : {};
    const batch = dynamicBatch ? 'batch' : o.batch;
    graph = inferenceGraph(config, { batch, height, width, weights: 'initializers', values, outputs: o.outputs, lowering }).graph;
  }
  return Session.create(serialize(graph), { intraOpThreads: o.threads, interOpThreads: 1, providers: o.providers, warn: o.warn });
}

/** Weights as host tensors by name. */
function hostValues(weights: ModelWeights): Record<string, HostTensor> {
  const values: Record<string, HostTensor> = {};
  if (weights instanceof Map) for (const [k, t] of weights) values[k] = hostTensor('float32', t.shape, t.data);
  else Object.assign(values, weights);
  return values;
}

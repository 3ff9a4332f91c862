// A serialisable inference graph of the backbone for feature extraction: input 'images' (B, C, H, W)
// (float, normalised), static shapes or symbolic ones (batch, height and width given as names: one graph
// for every size, ONNX dim_param), and the parameters either as graph inputs named canonically (fed in
// graph layout — params.ts `toGraphLayout`) or embedded as initializers.
import { Graph, type GraphLowering } from '../graph/graph.js';
import { optimize } from '../graph/optimize.js';
import { type HostTensor } from '../graph/tensor.js';
import { type ViTConfig } from './config.js';
import { paramSpecs } from './params.js';
import { buildViT, constantParams } from './vit.js';

export type InferenceOutput = 'cls' | 'registers' | 'patches' | 'prenorm' | 'attention' | 'tokenNorms';

export interface InferenceGraphOptions {
  /** A number fixes the dim; a name ('batch', 'height', 'width') makes it symbolic (float32 only). */
  batch: number | string;
  height: number | string;
  width: number | string;
  /** 'inputs' (default): parameters are graph inputs; 'initializers': embedded from `values`. */
  weights?: 'inputs' | 'initializers';
  /** PyTorch-layout values by canonical name, required for 'initializers'. */
  values?: Record<string, HostTensor>;
  /** Graph outputs, named as listed (default cls, registers, patches). */
  outputs?: InferenceOutput[];
  /** Add a bool (B, N) input 'masks' (true = replaced by mask_token). */
  masks?: boolean;
  /** Add a (depth, 5) input 'rope_aug' (DINOv3 training-time RoPE augmentation). */
  ropeAug?: boolean;
  dtype?: 'float32' | 'float64';
  /** Op lowering of the graph (core/graph GraphLowering), for the provider that will run it. */
  lowering?: GraphLowering;
}

export interface InferenceGraph {
  graph: Graph;
  /** Graph input names besides the parameters: 'images', and 'masks' / 'rope_aug' when asked for. */
  inputs: string[];
  /** Parameter input names (canonical), empty for initializers. */
  params: string[];
  outputs: InferenceOutput[];
}

/** Builds and optimises (CSE + DCE) the inference graph; serialise it with core/graph `serialize`. */
export function inferenceGraph(c: ViTConfig, o: InferenceGraphOptions): InferenceGraph {
  const dtype = o.dtype ?? 'float32';
  const g = new Graph(`dinoscope_${c.arch}_vit`, o.lowering);
  // Probe sizes for symbolic dims (what static shape checks see at build time): odd grids, unlike real ones.
  const probe: Record<string, number> = {};
  if (typeof o.batch === 'string') probe[o.batch] = 3;
  if (typeof o.height === 'string') probe[o.height] = 11 * c.patchSize;
  if (typeof o.width === 'string') probe[o.width] = 13 * c.patchSize;
  const images = g.input('images', [o.batch, c.inChans, o.height, o.width], dtype, `normalised images (B, ${c.inChans}, H, W)`, probe);
  const inputs = ['images'];
  if (images.symbolic && (o.masks || o.ropeAug))
    throw new Error('inferenceGraph: masks and rope_aug need a static batch, height and width');
  const N = (images.shape[2] / c.patchSize) * (images.shape[3] / c.patchSize);
  const masks = o.masks ? g.input('masks', [o.batch, N], 'bool', 'true where a patch is replaced by mask_token') : undefined;
  if (masks) inputs.push('masks');
  const ropeAug = o.ropeAug ? g.input('rope_aug', [c.depth, 5], dtype, 'per block: shift y, x, ln jitter y, x, ln rescale') : undefined;
  if (ropeAug) inputs.push('rope_aug');
  const weights = o.weights ?? 'inputs';
  if (weights === 'initializers' && !o.values) throw new Error('inferenceGraph: initializers need values');
  const params = weights === 'initializers' ? constantParams(g, c, o.values!, dtype) : undefined;
  const wanted = o.outputs ?? ['cls', 'registers', 'patches'];
  const r = buildViT(g, images, c, {
    params,
    masks,
    training: ropeAug ? { ropeAug } : undefined,
    outputs: { attention: wanted.includes('attention'), tokenNorms: wanted.includes('tokenNorms') },
  });
  for (const name of wanted) {
    const t = r[name];
    if (!t) throw new Error(`inferenceGraph: no output ${name}`);
    g.output(t, name);
  }
  optimize(g);
  return { graph: g, inputs, params: weights === 'inputs' ? paramSpecs(c).map((s) => s.name) : [], outputs: wanted };
}

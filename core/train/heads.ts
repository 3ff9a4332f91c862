// The DINO / iBOT projection head (dinov2/layers/dino_head.py, dinov3/layers/dino_head.py; recipe §2):
//   x (R, D) → Linear D→hidden → GELU → Linear hidden→hidden → GELU → Linear hidden→bottleneck
//            → L2-normalise (eps 1e-12) → last_layer bottleneck→K (no bias) → logits (R, K)
// nlayers = 3, no BatchNorm. DINOv2's last layer is weight-normalised (W = g · v/‖v‖ per prototype, weight_g
// trainable, initialised to 1); DINOv3's is a plain Linear.
//
// Parameter names follow the PyTorch module (mlp.0, mlp.2, mlp.4, last_layer.weight | weight_g + weight_v)
// under the graph scope of the head ('dino_head/…', 'ibot_head/…'). Graph layout: Linear weights (in, out);
// weight_g is (1, K) in the graph and (K, 1) in PyTorch.
import { type Graph } from '../graph/graph.js';
import { div, gelu, mul, sqrt } from '../graph/ops/elementwise.js';
import { autocastLinear, autocastMatmul } from '../graph/amp.js';
import { l2Normalize } from '../graph/ops/nn.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { type DType, type HostTensor, type Tensor, hostTensor } from '../graph/tensor.js';
import { type ParamInit, Rng } from '../model/params.js';

export interface HeadConfig {
  /** K: number of prototypes (reference 65536; small datasets and CPUs want 4096–16384). */
  prototypes: number;
  /** Width of the two hidden layers (reference 2048). */
  hidden: number;
  /** Bottleneck width before the L2 normalisation (reference 256). */
  bottleneck: number;
  /** 'weight-norm' (DINOv2) or 'plain' (DINOv3). */
  lastLayer: 'weight-norm' | 'plain';
}

export interface HeadParamSpec {
  /** Name inside the head (PyTorch module name), e.g. 'mlp.0.weight'. */
  name: string;
  /** PyTorch shape. */
  shape: number[];
  init: ParamInit;
  /** Weight decay applies (dinov2: not on biases; names with 'norm'/'gamma' are none here). */
  decay: boolean;
  /** The last layer (its lr is 0 while it is frozen). */
  lastLayer: boolean;
}

const TRUNC: ParamInit = { kind: 'trunc-normal', std: 0.02, a: -2, b: 2 };
const ZERO: ParamInit = { kind: 'constant', value: 0 };

/** The head's parameters in PyTorch order and shapes. */
export function headParamSpecs(h: HeadConfig, inDim: number): HeadParamSpec[] {
  const out: HeadParamSpec[] = [];
  const lin = (i: number, o: number, n: number): void => {
    out.push({ name: `mlp.${i}.weight`, shape: [o, n], init: TRUNC, decay: true, lastLayer: false });
    out.push({ name: `mlp.${i}.bias`, shape: [o], init: ZERO, decay: false, lastLayer: false });
  };
  lin(0, h.hidden, inDim);
  lin(2, h.hidden, h.hidden);
  lin(4, h.bottleneck, h.hidden);
  if (h.lastLayer === 'weight-norm') {
    // dinov2 wraps a default-initialised nn.Linear (kaiming-uniform, bound 1/√in) in weight_norm after
    // trunc-normal init of the MLP; the scale of v is irrelevant to the forward. weight_g is filled with 1.
    out.push({ name: 'last_layer.weight_g', shape: [h.prototypes, 1], init: { kind: 'constant', value: 1 }, decay: true, lastLayer: true });
    out.push({
      name: 'last_layer.weight_v',
      shape: [h.prototypes, h.bottleneck],
      init: { kind: 'uniform', bound: 1 / Math.sqrt(h.bottleneck) },
      decay: true,
      lastLayer: true,
    });
  } else {
    out.push({ name: 'last_layer.weight', shape: [h.prototypes, h.bottleneck], init: TRUNC, decay: true, lastLayer: true });
  }
  return out;
}

/** Graph shape of a head parameter: rank-2 weights are transposed to (in, out). */
export function headGraphShape(spec: { shape: number[] }): number[] {
  return spec.shape.length === 2 ? [spec.shape[1], spec.shape[0]] : [...spec.shape];
}

/** Transposes a rank-2 head tensor between PyTorch (out, in) and graph (in, out) layouts (its own inverse). */
export function headLayout(t: HostTensor): HostTensor {
  if (t.dims.length !== 2) return t;
  const [r, c] = t.dims;
  const src = t.data as Float32Array | Float64Array;
  const dst = t.dtype === 'float64' ? new Float64Array(src.length) : new Float32Array(src.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[i * c + j]; // (r, c) → (c, r)
  return hostTensor(t.dtype, [c, r], dst);
}

function fill(data: Float32Array | Float64Array, init: ParamInit, rng: Rng): void {
  for (let i = 0; i < data.length; i++) {
    if (init.kind === 'constant') data[i] = init.value;
    else if (init.kind === 'uniform') data[i] = (2 * rng.uniform() - 1) * init.bound;
    else if (init.kind === 'normal') data[i] = rng.normal() * init.std;
    else {
      let v = rng.normal() * init.std;
      while (v < init.a || v > init.b) v = rng.normal() * init.std;
      data[i] = v;
    }
  }
}

/** Freshly initialised head parameters (PyTorch layout, names without the head prefix). */
export function initHeadParams(
  h: HeadConfig,
  inDim: number,
  seed: number,
  dtype: 'float32' | 'float64' = 'float32',
): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const out: Record<string, HostTensor> = {};
  for (const s of headParamSpecs(h, inDim)) {
    const t = hostTensor(dtype, s.shape);
    fill(t.data as Float32Array | Float64Array, s.init, rng);
    out[s.name] = t;
  }
  return out;
}

export interface HeadParams {
  /** Graph tensors by head-local name (graph layout). */
  byName: Record<string, Tensor>;
}

/** Declares the head's parameters as graph params under the current scope. */
export function declareHeadParams(g: Graph, h: HeadConfig, inDim: number, dtype: DType = 'float32'): HeadParams {
  const byName: Record<string, Tensor> = {};
  for (const s of headParamSpecs(h, inDim)) byName[s.name] = g.param(s.name, headGraphShape(s), dtype);
  return { byName };
}

/** The head's forward on x (R, D) → logits (R, K). Call inside the head's scope. */
export function dinoHead(x: Tensor, h: HeadConfig, p: HeadParams): Tensor {
  const P = (n: string): Tensor => {
    const t = p.byName[n];
    if (!t) throw new Error(`dinoHead: missing parameter ${n}`);
    return t;
  };
  let y = gelu(autocastLinear(x, P('mlp.0.weight'), P('mlp.0.bias'))); // (R, hidden)
  y = gelu(autocastLinear(y, P('mlp.2.weight'), P('mlp.2.bias'))); // (R, hidden)
  y = autocastLinear(y, P('mlp.4.weight'), P('mlp.4.bias')); // (R, bottleneck)
  const z = l2Normalize(y, -1, 1e-12); // (R, bottleneck), unit rows
  let w: Tensor; // (bottleneck, K)
  if (h.lastLayer === 'weight-norm') {
    const v = P('last_layer.weight_v'); // (bottleneck, K)
    // torch weight_norm(dim=0) on the (K, bottleneck) weight: each prototype's row has norm g_k.
    const norm = sqrt(reduceSum(mul(v, v), [0], true)); // (1, K)
    w = mul(div(v, norm), P('last_layer.weight_g')); // (bottleneck, K)
  } else w = P('last_layer.weight');
  return autocastMatmul(z, w); // (R, K)
}

// The canonical parameter names, shapes and initialisations of our ViT: the original facebookresearch key
// layout (dinov2/models/vision_transformer.py, dinov3/models/vision_transformer.py) with PyTorch shapes.
//
// How the graph stores them (core/graph convention, see core/graph/examples/block.ts): graph parameters
// carry exactly these names, and every tensor has its PyTorch shape EXCEPT
//   - Linear weights `….weight` of rank 2: PyTorch (out, in) → graph (in, out), transposed, so every
//     MatMul/Gemm reads its weight without a Transpose node;
//   - `patch_embed.proj.weight`: PyTorch Conv2d (D, C, p, p) → graph (C·p·p, D), the flattened kernel
//     transposed (rows ordered (c, i, j), matching `patchify`).
// `toGraphLayout` / `fromGraphLayout` convert one tensor; checkpoints, fixtures and exports always use the
// PyTorch layout, so conversion happens only when feeding a graph or reading its parameters back.
import { gaussian, mulberry32 } from '../common/random.js';
import { DinoscopeError } from '../common/errors.js';
import { type DType, type HostTensor, allocData, hostTensor, sizeOf } from '../graph/tensor.js';
import { type ViTConfig, ffnHidden } from './config.js';

/** How a parameter is initialised for training (recipe §1 "Init"). */
export type ParamInit =
  /** PyTorch's trunc_normal_(std, a, b): a normal of mean 0 redrawn outside the ABSOLUTE bounds [a, b]. */
  | { kind: 'trunc-normal'; std: number; a: number; b: number }
  | { kind: 'normal'; std: number }
  /** U(−bound, bound): PyTorch's default Conv2d init for the patch embedding, bound 1/√(C·p·p). */
  | { kind: 'uniform'; bound: number }
  | { kind: 'constant'; value: number };

export interface ParamSpec {
  /** Canonical (original facebookresearch) name, also the graph parameter name. */
  name: string;
  /** PyTorch shape. */
  shape: number[];
  init: ParamInit;
  /** Weight decay applies (false for biases, norms and LayerScale gammas, as dinov2's param groups). */
  decay: boolean;
  /** Layer for layer-wise lr decay: 0 tokens/pos-embed/patch-embed, blocks.i → i + 1, the rest depth + 1. */
  layerId: number;
}

const TRUNC = (std: number): ParamInit => ({ kind: 'trunc-normal', std, a: -2, b: 2 });
const ZERO: ParamInit = { kind: 'constant', value: 0 };
const ONE: ParamInit = { kind: 'constant', value: 1 };

/** Every trainable parameter of the backbone, in the order of the original module's named_parameters(). */
export function paramSpecs(c: ViTConfig): ParamSpec[] {
  const D = c.dim;
  const out: ParamSpec[] = [];
  const push = (name: string, shape: number[], init: ParamInit, layerId: number): void => {
    const decay = !(name.endsWith('.bias') || name.includes('norm') || name.includes('gamma'));
    out.push({ name, shape, init, decay, layerId });
  };
  const v2 = c.arch === 'dinov2';
  const tokenStd: ParamInit = v2 ? { kind: 'normal', std: 1e-6 } : { kind: 'normal', std: 0.02 };
  push('cls_token', [1, 1, D], tokenStd, 0);
  if (v2) {
    const M = c.posEmbed?.gridSize ?? 0;
    push('pos_embed', [1, 1 + M * M, D], TRUNC(0.02), 0);
    if (c.registers > 0) push('register_tokens', [1, c.registers, D], tokenStd, 0);
  } else if (c.registers > 0) push('storage_tokens', [1, c.registers, D], tokenStd, 0);
  push('mask_token', [1, D], ZERO, 0);
  const p = c.patchSize;
  const fanIn = c.inChans * p * p;
  const pe: ParamInit = { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) };
  push('patch_embed.proj.weight', [D, c.inChans, p, p], pe, 0);
  push('patch_embed.proj.bias', [D], pe, 0);
  const H = ffnHidden(c);
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}.`;
    const id = i + 1;
    const lin = (name: string, outF: number, inF: number, bias = true): void => {
      push(`${b}${name}.weight`, [outF, inF], TRUNC(0.02), id);
      if (bias) push(`${b}${name}.bias`, [outF], ZERO, id);
    };
    push(`${b}norm1.weight`, [D], ONE, id);
    push(`${b}norm1.bias`, [D], ZERO, id);
    lin('attn.qkv', 3 * D, D, c.qkvBias);
    lin('attn.proj', D, D);
    if (c.layerScale.enabled) push(`${b}ls1.gamma`, [D], { kind: 'constant', value: c.layerScale.init }, id);
    push(`${b}norm2.weight`, [D], ONE, id);
    push(`${b}norm2.bias`, [D], ZERO, id);
    if (c.ffn === 'mlp') {
      lin('mlp.fc1', H, D);
      lin('mlp.fc2', D, H);
    } else if (v2) {
      lin('mlp.w12', 2 * H, D);
      lin('mlp.w3', D, H);
    } else {
      lin('mlp.w1', H, D);
      lin('mlp.w2', H, D);
      lin('mlp.w3', D, H);
    }
    if (c.layerScale.enabled) push(`${b}ls2.gamma`, [D], { kind: 'constant', value: c.layerScale.init }, id);
  }
  push('norm.weight', [D], ONE, c.depth + 1);
  push('norm.bias', [D], ZERO, c.depth + 1);
  return out;
}

/**
 * Non-trainable buffers that original checkpoints carry and we derive from the config instead:
 * DINOv3's `rope_embed.periods` and, with maskKBias, `blocks.{i}.attn.qkv.bias_mask`. Importers skip them.
 */
export function bufferNames(c: ViTConfig): string[] {
  if (c.arch !== 'dinov3') return [];
  const names = ['rope_embed.periods'];
  if (c.maskKBias) for (let i = 0; i < c.depth; i++) names.push(`blocks.${i}.attn.qkv.bias_mask`);
  return names;
}

/** Total number of trainable parameters. */
export function paramCount(c: ViTConfig): number {
  return paramSpecs(c).reduce((s, p) => s + sizeOf(p.shape), 0);
}

/** Layer-wise lr multiplier rate^(depth + 1 − layerId) (recipe §5; rate 0.9 in DINOv2). */
export function layerDecayMultiplier(spec: ParamSpec, depth: number, rate: number): number {
  return rate ** (depth + 1 - spec.layerId);
}

// ---- initialisation -------------------------------------------------------------------------------------

/** A seeded generator of uniform numbers in [0, 1) (mulberry32), with Box–Muller normals on top. */
export class Rng {
  readonly uniform: () => number;
  readonly normal: () => number;
  constructor(seed: number) {
    // One stream: normals draw their two uniforms from the same generator as uniform() does.
    this.uniform = mulberry32(seed);
    this.normal = gaussian(this.uniform);
  }
}

function fill(data: Float32Array | Float64Array, init: ParamInit, rng: Rng): void {
  for (let i = 0; i < data.length; i++) {
    switch (init.kind) {
      case 'constant':
        data[i] = init.value;
        break;
      case 'uniform':
        data[i] = (2 * rng.uniform() - 1) * init.bound;
        break;
      case 'normal':
        data[i] = rng.normal() * init.std;
        break;
      case 'trunc-normal': {
        let v = rng.normal() * init.std;
        while (v < init.a || v > init.b) v = rng.normal() * init.std;
        data[i] = v;
        break;
      }
    }
  }
}

/** Freshly initialised parameters in PyTorch layout, reproducible from `seed`. */
export function initParams(c: ViTConfig, seed: number, dtype: 'float32' | 'float64' = 'float32'): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const out: Record<string, HostTensor> = {};
  for (const s of paramSpecs(c)) {
    const t = hostTensor(dtype, s.shape);
    fill(t.data as Float32Array | Float64Array, s.init, rng);
    out[s.name] = t;
  }
  return out;
}

// ---- layouts --------------------------------------------------------------------------------------------

const PATCH_W = 'patch_embed.proj.weight';
const isLinearWeight = (name: string, rank: number): boolean => rank === 2 && name.endsWith('.weight');

/** The graph shape of a parameter given its PyTorch shape. */
export function graphShape(name: string, torchShape: readonly number[]): number[] {
  if (name === PATCH_W && torchShape.length === 4) {
    const [D, C, p, q] = torchShape;
    return [C * p * q, D];
  }
  if (isLinearWeight(name, torchShape.length)) return [torchShape[1], torchShape[0]];
  return [...torchShape];
}

/** Parameter name → graph shape, for every parameter of `c`. */
export function graphParamShapes(c: ViTConfig): Record<string, number[]> {
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, graphShape(s.name, s.shape)]));
}

function transpose2<D extends DType>(t: HostTensor<D>, rows: number, cols: number, dims: number[]): HostTensor<D> {
  const src = t.data;
  const dst = allocData(t.dtype, src.length);
  // (rows, cols) → (cols, rows)
  if (src instanceof BigInt64Array) {
    const d = dst as BigInt64Array;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) d[c * rows + r] = src[r * cols + c];
  } else {
    const s = src as Float32Array;
    const d = dst as Float32Array;
    // In 32 × 32 blocks: a row-by-row walk writes one cache line per element once a row of `d` spans
    // more than the cache (a ViT-L's 1024 × 4096 MLP weights); a block's reads and writes stay in it.
    const T = 32;
    for (let r0 = 0; r0 < rows; r0 += T) {
      const r1 = Math.min(rows, r0 + T);
      for (let c0 = 0; c0 < cols; c0 += T) {
        const c1 = Math.min(cols, c0 + T);
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) d[c * rows + r] = s[r * cols + c];
      }
    }
  }
  return hostTensor(t.dtype, dims, dst);
}

/** A tensor in PyTorch layout → the layout its graph parameter has (returns `t` itself when they agree). */
export function toGraphLayout<D extends DType>(name: string, t: HostTensor<D>): HostTensor<D> {
  if (name === PATCH_W && t.dims.length === 4) {
    const [D, C, p, q] = t.dims;
    return transpose2(t, D, C * p * q, [C * p * q, D]); // (D, C·p·p) → (C·p·p, D)
  }
  if (isLinearWeight(name, t.dims.length)) return transpose2(t, t.dims[0], t.dims[1], [t.dims[1], t.dims[0]]); // (out, in) → (in, out)
  return t;
}

/** The inverse of `toGraphLayout`. The patch kernel is square with `inChans` channels (3 by default). */
export function fromGraphLayout<D extends DType>(name: string, t: HostTensor<D>, inChans = 3): HostTensor<D> {
  if (name === PATCH_W && t.dims.length === 2) {
    const [K, D] = t.dims;
    const p = Math.round(Math.sqrt(K / inChans));
    if (inChans * p * p !== K) throw new Error(`fromGraphLayout: ${name} has ${K} rows, not ${inChans}·p·p`);
    return transpose2(t, K, D, [D, inChans, p, p]); // (C·p·p, D) → (D, C, p, p)
  }
  if (isLinearWeight(name, t.dims.length)) return transpose2(t, t.dims[0], t.dims[1], [t.dims[1], t.dims[0]]); // (in, out) → (out, in)
  return t;
}

// ---- whole parameter sets -------------------------------------------------------------------------------

function checkSet(c: ViTConfig, values: Record<string, HostTensor>, shapeOf: (s: ParamSpec) => number[], what: string): void {
  const specs = paramSpecs(c);
  const known = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => !values[s.name]).map((s) => s.name);
  const unknown = Object.keys(values).filter((n) => !known.has(n));
  const misShaped = specs
    .filter((s) => values[s.name] && values[s.name].dims.join(',') !== shapeOf(s).join(','))
    .map((s) => `${s.name} [${values[s.name].dims.join(', ')}] (expected [${shapeOf(s).join(', ')}])`);
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.join(', ')}`);
  if (unknown.length) parts.push(`unknown ${unknown.join(', ')}`);
  if (misShaped.length) parts.push(`mis-shaped ${misShaped.join(', ')}`);
  if (parts.length) throw new DinoscopeError('BAD_INPUT', `ViT parameters (${what}) do not fit the config: ${parts.join('; ')}`);
}

/** PyTorch-layout parameters → graph feeds (every name checked: missing, unknown or mis-shaped → BAD_INPUT). */
export function toGraphFeeds(c: ViTConfig, values: Record<string, HostTensor>): Record<string, HostTensor> {
  checkSet(c, values, (s) => s.shape, 'PyTorch layout');
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, toGraphLayout(s.name, values[s.name])]));
}

/** Graph-layout parameters (e.g. read back after training) → PyTorch layout, checked the same way. */
export function fromGraphFeeds(c: ViTConfig, values: Record<string, HostTensor>): Record<string, HostTensor> {
  checkSet(c, values, (s) => graphShape(s.name, s.shape), 'graph layout');
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, fromGraphLayout(s.name, values[s.name], c.inChans)]));
}

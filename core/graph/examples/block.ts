// The ViT-S block used to check the engine against PyTorch (DINOv2 layers/block.py): pre-norm, fused qkv D→3D, multi-head attention
// with scale 1/√hd, output projection, LayerScale, MLP with exact GELU, residuals, LayerNorm eps 1e-6.
//   x1 = x  + ls1 · proj(attn(norm1(x)))
//   y  = x1 + ls2 · fc2(gelu(fc1(norm2(x1))))
// Linear weights are stored (in, out), i.e. PyTorch's nn.Linear weight transposed, so every MatMul
// reads its weight without a Transpose.
import { grad } from '../autodiff.js';
import { Graph } from '../graph.js';
import { add, gelu, mul } from '../ops/elementwise.js';
import { linear, matmul } from '../ops/linalg.js';
import { layerNorm, softmax } from '../ops/nn.js';
import { reshape, split, transpose } from '../ops/shape.js';
import { type DType, type Tensor } from '../tensor.js';

export interface BlockConfig {
  dim: number; // D = 384 for ViT-S
  heads: number; // 6 for ViT-S (head size 64)
  mlp: number; // hidden width, 4·D = 1536
  eps?: number; // LayerNorm epsilon, 1e-6 as in DINOv2
  /** Recompute the attention scores and softmax in the backward instead of keeping them. */
  remat?: boolean;
}

export type BlockParams = Record<string, Tensor>;

/** Parameter names (PyTorch's) and our shapes: Linear weights (in, out). */
export function blockParamShapes(c: BlockConfig): Record<string, number[]> {
  const { dim: D, mlp: H } = c;
  return {
    'norm1.weight': [D],
    'norm1.bias': [D],
    'attn.qkv.weight': [D, 3 * D],
    'attn.qkv.bias': [3 * D],
    'attn.proj.weight': [D, D],
    'attn.proj.bias': [D],
    'ls1.gamma': [D],
    'norm2.weight': [D],
    'norm2.bias': [D],
    'mlp.fc1.weight': [D, H],
    'mlp.fc1.bias': [H],
    'mlp.fc2.weight': [H, D],
    'mlp.fc2.bias': [D],
    'ls2.gamma': [D],
  };
}

/** Declares the block's parameters as graph parameters named like PyTorch's (under the current scope). */
export function blockParams(g: Graph, c: BlockConfig, dtype: DType = 'float32'): BlockParams {
  const p: BlockParams = {};
  for (const [name, shape] of Object.entries(blockParamShapes(c))) p[name] = g.param(name, shape, dtype);
  return p;
}

/** The block's forward on x (B, N, D) → (B, N, D). */
export function block(g: Graph, x: Tensor, p: BlockParams, c: BlockConfig): Tensor {
  const [B, N, D] = x.shape;
  const nh = c.heads;
  const hd = D / nh;
  const eps = c.eps ?? 1e-6;
  const x1 = g.scope('attn', () => {
    const h = layerNorm(x, p['norm1.weight'], p['norm1.bias'], eps); // (B, N, D)
    const qkv = linear(h, p['attn.qkv.weight'], p['attn.qkv.bias']); // (B, N, 3D)
    const [q0, k0, v0] = split(qkv, 3, -1); // (B, N, D) each
    const q = transpose(reshape(mul(q0, 1 / Math.sqrt(hd)), [B, N, nh, hd]), [0, 2, 1, 3]); // (B, nh, N, hd), scaled
    const kT = transpose(reshape(k0, [B, N, nh, hd]), [0, 2, 3, 1]); // (B, nh, hd, N)
    const v = transpose(reshape(v0, [B, N, nh, hd]), [0, 2, 1, 3]); // (B, nh, N, hd)
    const scores = (): Tensor => softmax(matmul(q, kT), -1); // (B, nh, N, N)
    const a = c.remat ? g.remat(scores) : scores();
    const o = reshape(transpose(matmul(a, v), [0, 2, 1, 3]), [B, N, D]); // (B, nh, N, hd) → (B, N, nh, hd) → (B, N, D)
    const proj = linear(o, p['attn.proj.weight'], p['attn.proj.bias']); // (B, N, D)
    return add(x, mul(proj, p['ls1.gamma']));
  });
  return g.scope('mlp', () => {
    const h = layerNorm(x1, p['norm2.weight'], p['norm2.bias'], eps); // (B, N, D)
    const u = gelu(linear(h, p['mlp.fc1.weight'], p['mlp.fc1.bias'])); // (B, N, H)
    const m = linear(u, p['mlp.fc2.weight'], p['mlp.fc2.bias']); // (B, N, D)
    return add(x1, mul(m, p['ls2.gamma']));
  });
}

export interface BlockGraph {
  graph: Graph;
  /** Inputs: 'x' (B, N, D) and the upstream gradient 'dy' (B, N, D); parameters by name. */
  x: Tensor;
  dy: Tensor;
  params: BlockParams;
  /** Output names: 'y', 'grad/x', and 'grad/<param name>' for every parameter. */
  outputs: string[];
}

/**
 * The block forward + backward as one graph: inputs x, dy and the parameters; outputs y and the
 * gradients of loss = Σ y·dy with respect to x and every parameter.
 */
export function blockGraph(c: BlockConfig & { batch: number; tokens: number; dtype?: DType }): BlockGraph {
  const g = new Graph('vit_block');
  const dtype = c.dtype ?? 'float32';
  const x = g.input('x', [c.batch, c.tokens, c.dim], dtype);
  const dy = g.input('dy', [c.batch, c.tokens, c.dim], dtype);
  const params = g.scope('block', () => blockParams(g, c, dtype));
  const y = g.scope('block', () => block(g, x, params, c));
  const names = Object.keys(params);
  const grads = grad([y], [x, ...names.map((n) => params[n])], [dy]);
  const outputs = ['y', 'grad/x', ...names.map((n) => `grad/${n}`)];
  g.output(y, 'y');
  grads.forEach((d, i) => g.output(d, outputs[i + 1]));
  return { graph: g, x, dy, params, outputs };
}

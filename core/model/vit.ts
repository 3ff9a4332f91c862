// The Vision Transformer backbone of DINOv2 and DINOv3 (with register tokens) on core/graph.
//
//   images (B, 3, H, W) ─patch embed→ (B, N, D) ─masks→ mask_token where masked
//   v2: [CLS + pos_cls | registers | patches + pos_patches]       (registers get no position)
//   v3: [CLS | storage tokens | patches], RoPE on patches inside every attention
//   → depth × block → prenorm (B, T, D) → final LayerNorm → cls (B, D), registers (B, R, D), patches (B, N, D)
// Token order is [CLS, R registers, N patches] (T = 1 + R + N) in both styles.
// Images with symbolic dims (batch, height, width: core/graph/sym.ts) build an inference graph whose grid
// is computed at run time: Conv patch embedding, pos-embed by ONNX Resize, RoPE tables from Range.
import { type Graph } from '../graph/graph.js';
import { add, mul, sqrt, sub, where } from '../graph/ops/elementwise.js';
import { layerNorm } from '../graph/ops/nn.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { concat, expand, gather, reshape, slice } from '../graph/ops/shape.js';
import { type Dim, dimAdd, dimEq, dimFloorDiv, dimMul } from '../graph/sym.js';
import { type DType, type HostTensor, type Tensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from './config.js';
import { patchEmbed } from './patch-embed.js';
import { graphShape, paramSpecs, toGraphLayout } from './params.js';
import { posEmbedTokens, posEmbedTokensDynamic } from './pos-embed.js';
import { type RopeGraphTables, ropeAugmented, ropeConstants, ropeDynamic } from './rope.js';
import { type ViTParams, vitBlock } from './block.js';

export type { ViTParams } from './block.js';

export interface ViTBuildOptions {
  /** Parameters by canonical name in graph layout; declared as graph parameters (fed at run time) if absent. */
  params?: ViTParams;
  /** (B, N) bool (true = masked) or float in [0, 1]: masked patches become mask_token before any position info. */
  masks?: Tensor;
  /**
   * (B·V,) int64 flat indices into the B·N patches of the patches the encoder keeps (V per image, each
   * image's in order): the others are dropped after the position embedding (CAPI's student sees only its
   * visible patches). `patches` is then (B, V, D). DINOv2 style only (RoPE tables are per grid).
   */
  visible?: Tensor;
  /** Training mode: RoPE augmentation draws (depth, 5) per block (rope.ts). Absent: inference (no augmentation). */
  training?: { ropeAug?: Tensor };
  /** Extra outputs. */
  outputs?: { attention?: boolean; tokenNorms?: boolean };
  /** Rematerialise every block's attention softmax in the backward. */
  remat?: boolean;
}

export interface ViTOutputs {
  /** (B, D), after the final LayerNorm. */
  cls: Tensor;
  /** (B, R, D) (R may be 0). */
  registers: Tensor;
  /** (B, N, D), row-major over the (H/p) × (W/p) grid. */
  patches: Tensor;
  /** (B, T, D): the residual stream after the last block, before the final norm. */
  prenorm: Tensor;
  /** (B, h, N): last block's attention of the CLS query to each patch key, per head (softmax over all T keys,
   *  so a row sums to 1 minus the CLS query's attention to CLS and registers). */
  attention?: Tensor;
  /** (B, T): ‖prenorm token‖₂ (the register paper's high-norm outlier diagnostic). */
  tokenNorms?: Tensor;
  params: ViTParams;
}

/** Declares every parameter as a graph parameter (graph layout, canonical names) — fed at run time. */
export function declareParams(g: Graph, c: ViTConfig, dtype: DType = 'float32'): ViTParams {
  const p: ViTParams = {};
  for (const s of paramSpecs(c)) p[s.name] = g.param(s.name, graphShape(s.name, s.shape), dtype);
  return p;
}

/** Embeds every parameter as an initializer from `values` (PyTorch layout, canonical names). */
export function constantParams(
  g: Graph,
  c: ViTConfig,
  values: Record<string, HostTensor>,
  dtype: 'float32' | 'float64' = 'float32',
): ViTParams {
  const p: ViTParams = {};
  for (const s of paramSpecs(c)) {
    const v = values[s.name];
    if (!v) throw new Error(`constantParams: no value for ${s.name}`);
    if (v.dims.join(',') !== s.shape.join(','))
      throw new Error(`constantParams: ${s.name} is [${v.dims.join(', ')}], expected [${s.shape.join(', ')}]`);
    if (v.dtype !== 'float32' && v.dtype !== 'float64')
      throw new Error(`constantParams: ${s.name} is ${v.dtype}; convert it to float32 or float64 first`);
    const t = toGraphLayout(s.name, v);
    const data =
      dtype === 'float64'
        ? Float64Array.from(t.data as Float32Array)
        : t.dtype === 'float32'
          ? (t.data as Float32Array)
          : Float32Array.from(t.data as Float64Array);
    p[s.name] = g.constant({ dtype, dims: t.dims, data }, s.name);
  }
  return p;
}

function need(p: ViTParams, name: string): Tensor {
  const t = p[name];
  if (!t) throw new Error(`buildViT: missing parameter ${name}`);
  return t;
}

/** Replaces masked patch tokens x (B, N, D) by mask_token (1, D). */
function applyMasks(x: Tensor, masks: Tensor, maskToken: Tensor): Tensor {
  const [B, N] = x.shape;
  if (masks.rank !== 2 || masks.shape[0] !== B || masks.shape[1] !== N) throw new Error(`buildViT: masks ${masks} must be (${B}, ${N})`);
  const m = reshape(masks, [B, N, 1]); // (B, N, 1)
  if (m.dtype === 'bool') return where(m, maskToken, x); // (B, N, D)
  return add(x, mul(m, sub(maskToken, x))); // x + m·(mask_token − x): differentiable in m
}

/** The patches x (B, N, D) at the flat indices `visible` (B·V,) into B·N, as (B, V, D). */
function keepVisible(x: Tensor, visible: Tensor): Tensor {
  const [B, N, D] = x.shape;
  const n = visible.shape[0];
  if (visible.rank !== 1 || n % B) throw new Error(`buildViT: visible ${visible} must be (B·V,) for ${B} images`);
  return reshape(gather(reshape(x, [B * N, D]), visible, 0), [B, n / B, D]);
}

/** Builds the backbone on `images` (B, C, H, W), float32 or float64, already normalised. */
export function buildViT(g: Graph, images: Tensor, c: ViTConfig, opts: ViTBuildOptions = {}): ViTOutputs {
  const [B, C, H, W] = images.dims;
  if (images.rank !== 4 || C !== c.inChans) throw new Error(`buildViT: images ${images} must be (B, ${c.inChans}, H, W)`);
  const dynamic = images.symbolic;
  if (dynamic && (opts.masks || opts.training || opts.visible))
    throw new Error('buildViT: masks, dropped patches and RoPE augmentation need static image sizes');
  const { h, w }: { h: Dim; w: Dim } = dynamic
    ? { h: dimFloorDiv(H, c.patchSize), w: dimFloorDiv(W, c.patchSize) }
    : patchGrid(c, H as number, W as number);
  const N = dimMul(h, w);
  const R = c.registers;
  const D = c.dim;
  const params = opts.params ?? declareParams(g, c, images.dtype);
  const P = (name: string): Tensor => need(params, name);
  const x0 = g.scope('patch_embed', () => patchEmbed(images, P('patch_embed.proj.weight'), P('patch_embed.proj.bias'), c.patchSize)); // (B, N, D)
  const x1 = opts.masks ? g.scope('masks', () => applyMasks(x0, opts.masks!, P('mask_token'))) : x0; // (B, N, D)
  const parts: Tensor[] = [];
  let rope: ((i: number) => RopeGraphTables) | undefined;
  if (c.arch === 'dinov2') {
    const pe = g.scope('pos_embed', () =>
      dynamic
        ? posEmbedTokensDynamic(g, P('pos_embed'), c.posEmbed!, h, w, H, W)
        : posEmbedTokens(g, P('pos_embed'), c.posEmbed!, h as number, w as number, dimEq(H, W)),
    );
    parts.push(expand(add(P('cls_token'), pe.cls), [B, 1, D])); // (B, 1, D)
    if (R > 0) parts.push(expand(P('register_tokens'), [B, R, D])); // (B, R, D)
    const x2 = add(x1, pe.patches); // (B, N, D)
    parts.push(opts.visible ? keepVisible(x2, opts.visible) : x2); // (B, N or V, D)
  } else {
    if (opts.visible) throw new Error('buildViT: dropping patches (visible) needs a DINOv2-style model (learned position embedding)');
    parts.push(expand(P('cls_token'), [B, 1, D])); // (B, 1, D)
    if (R > 0) parts.push(expand(P('storage_tokens'), [B, R, D])); // (B, R, D)
    parts.push(x1); // (B, N, D)
    const aug = opts.training?.ropeAug;
    if (aug) {
      if (aug.rank !== 2 || aug.shape[0] !== c.depth || aug.shape[1] !== 5)
        throw new Error(`buildViT: ropeAug ${aug} must be (${c.depth}, 5)`);
      rope = (i) => ropeAugmented(g, c, h as number, w as number, 1 + R, reshape(slice(aug, [0], [i], [i + 1]), [5])); // a fresh draw per block
    } else if (dynamic) {
      const tables = ropeDynamic(g, c, images, h, w, 1 + R);
      rope = () => tables;
    } else {
      const dtype = images.dtype === 'float64' ? 'float64' : 'float32';
      const tables = ropeConstants(g, c, h as number, w as number, 1 + R, dtype);
      rope = () => tables;
    }
  }
  const kept = opts.visible ? opts.visible.shape[0] / (B as number) : N; // patch tokens the blocks see
  let x = concat(parts, 1); // (B, T, D), T = 1 + R + kept
  let attention: Tensor | undefined;
  for (let i = 0; i < c.depth; i++) {
    const last = i === c.depth - 1;
    const r = vitBlock(g, x, params, i, c, { rope: rope?.(i), remat: opts.remat, clsAttention: last && !!opts.outputs?.attention });
    x = r.y;
    if (r.clsAttention) attention = slice(r.clsAttention, [2], [1 + R], [dimAdd(1 + R, kept)]); // (B, h, T) → (B, h, N)
  }
  const prenorm = x; // (B, T, D)
  const xn = layerNorm(prenorm, P('norm.weight'), P('norm.bias'), c.eps); // (B, T, D)
  const out: ViTOutputs = {
    cls: reshape(slice(xn, [1], [0], [1]), [B, D]), // (B, 1, D) → (B, D)
    registers: slice(xn, [1], [1], [1 + R]), // (B, R, D)
    patches: slice(xn, [1], [1 + R], [dimAdd(1 + R, kept)]), // (B, N or V, D)
    prenorm,
    params,
  };
  if (attention) out.attention = attention;
  if (opts.outputs?.tokenNorms) out.tokenNorms = sqrt(reduceSum(mul(prenorm, prenorm), [-1])); // (B, T)
  return out;
}

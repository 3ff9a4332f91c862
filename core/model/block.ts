// The pre-norm Transformer block of DINOv2 and DINOv3 (layers/block.py):
//   x ← x + LS1(Attn(Norm1(x)))
//   x ← x + LS2(FFN(Norm2(x)))
// Parameters are read by canonical name `blocks.{i}.…` (graph layout, params.ts).
import { type Graph } from '../graph/graph.js';
import { add } from '../graph/ops/elementwise.js';
import { layerNorm } from '../graph/ops/nn.js';
import { type Tensor } from '../graph/tensor.js';
import { type AttentionOptions, selfAttention } from './attention.js';
import { type ViTConfig } from './config.js';
import { type BlockParam, ffn } from './ffn.js';
import { layerScale } from './layer-scale.js';

export type ViTParams = Record<string, Tensor>;

export interface BlockResult {
  /** (B, T, D) */
  y: Tensor;
  /** (B, h, T) when requested through `o.clsAttention`. */
  clsAttention?: Tensor;
}

/** Block i on x (B, T, D). */
export function vitBlock(g: Graph, x: Tensor, params: ViTParams, i: number, c: ViTConfig, o: AttentionOptions = {}): BlockResult {
  const p: BlockParam = (suffix) => {
    const t = params[`blocks.${i}.${suffix}`];
    if (!t) throw new Error(`vitBlock: missing parameter blocks.${i}.${suffix}`);
    return t;
  };
  const ls = (name: string): Tensor | undefined => (c.layerScale.enabled ? p(name) : undefined);
  return g.scope(`blocks.${i}`, () => {
    const h1 = layerNorm(x, p('norm1.weight'), p('norm1.bias'), c.eps); // (B, T, D)
    const att = g.scope('attn', () => selfAttention(g, h1, p, c, o));
    const x1 = add(x, layerScale(att.y, ls('ls1.gamma'))); // (B, T, D)
    const h2 = layerNorm(x1, p('norm2.weight'), p('norm2.bias'), c.eps); // (B, T, D)
    const m = g.scope('mlp', () => ffn(h2, p, c)); // (B, T, D)
    const y = add(x1, layerScale(m, ls('ls2.gamma'))); // (B, T, D)
    return { y, clsAttention: att.clsAttention };
  });
}

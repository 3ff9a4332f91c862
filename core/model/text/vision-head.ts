// The dino.txt vision head on core/graph (dinov3/eval/text/vision_tower.py): on the backbone's final normed
// tokens [CLS, registers, patches], `visionHeadBlocks` pre-norm blocks (dinov3 SelfAttentionBlock: no qkv
// bias, SwiGLU aligned to 64, LayerScale, no RoPE), a LayerNorm, the projection D → E/2 (no bias) when the
// checkpoint has one. The image embedding is [CLS | mean of the patches] (B, E); the patch embeddings
// (B, N, E/2) are what text queries score.
import { type Graph } from '../../graph/graph.js';
import { linear } from '../../graph/ops/linalg.js';
import { layerNorm } from '../../graph/ops/nn.js';
import { reduceMean } from '../../graph/ops/reduce.js';
import { concat, reshape, slice } from '../../graph/ops/shape.js';
import { type Tensor } from '../../graph/tensor.js';
import { vitBlock } from '../block.js';
import { type ViTConfig } from '../config.js';
import { DINOTXT_EPS, type DinoTxtConfig } from './config.js';
import { type DinoTxtParams, VISION_HEAD_PREFIX } from './params.js';

export interface VisionHeadOutputs {
  /** (B, E/2) */
  cls: Tensor;
  /** (B, N, E/2) */
  patches: Tensor;
  /** (B, E): [cls | mean over patches], not normalised. */
  image: Tensor;
}

/** The head blocks as the ViT block sees them: a DINOv3 block without qkv bias or RoPE, SwiGLU aligned to 64. */
function headBlockConfig(c: DinoTxtConfig): ViTConfig {
  return {
    arch: 'dinov3',
    patchSize: 16,
    inChans: 3,
    dim: c.visionDim,
    depth: c.visionHeadBlocks,
    heads: c.visionHeads,
    registers: 0,
    ffn: 'swiglu',
    ffnRatio: 4,
    swigluAlign: 64,
    layerScale: { enabled: true, init: 1e-5 },
    qkvBias: false,
    maskKBias: false,
    eps: DINOTXT_EPS,
    posEmbed: null,
    rope: null,
  };
}

/** The head on tokens (B, 1 + R + N, D) = [CLS, R registers, N patches] after the backbone's final norm. */
export function buildVisionHead(g: Graph, tokens: Tensor, registers: number, c: DinoTxtConfig, params: DinoTxtParams): VisionHeadOutputs {
  const [B, T] = tokens.dims;
  if (tokens.rank !== 3 || tokens.shape[2] !== c.visionDim)
    throw new Error(`dino.txt vision head: tokens ${tokens} must be (B, T, ${c.visionDim})`);
  const blockCfg = headBlockConfig(c);
  // vitBlock reads `blocks.{i}.…`: the head's own parameters under those names.
  const local: DinoTxtParams = {};
  for (const [k, t] of Object.entries(params)) if (k.startsWith(VISION_HEAD_PREFIX)) local[k.slice(VISION_HEAD_PREFIX.length)] = t;
  return g.scope('vision_head', () => {
    let x = tokens;
    for (let i = 0; i < c.visionHeadBlocks; i++) x = vitBlock(g, x, local, i, blockCfg).y; // (B, T, D)
    if (c.visionHeadBlocks > 0) x = layerNorm(x, local['ln_final.weight'], local['ln_final.bias'], DINOTXT_EPS);
    if (c.visionProjection) x = linear(x, local['linear_projection.weight'], null); // (B, T, E/2)
    const H = c.embedDim / 2;
    const cls = reshape(slice(x, [1], [0], [1]), [B, H]); // (B, E/2)
    const patches = slice(x, [1], [1 + registers], [T]); // (B, N, E/2)
    const image = concat([cls, reduceMean(patches, [1])], 1); // (B, E)
    return { cls, patches, image };
  });
}

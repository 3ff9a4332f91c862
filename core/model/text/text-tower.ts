// The dino.txt text tower on core/graph (dinov3/eval/text/text_transformer.py, text_tower.py,
// layers/block.py CausalSelfAttentionBlock): token embedding + learned positions, pre-norm blocks with
// causal attention (no qkv bias) and a GELU MLP, no LayerScale, a final LayerNorm, the projection to E
// (no bias) and the "argmax" pooler: the token at the position of the largest id, <|endoftext|>.
import { type Graph } from '../../graph/graph.js';
import { add, cast, equal, gelu, mul } from '../../graph/ops/elementwise.js';
import { linear, matmul } from '../../graph/ops/linalg.js';
import { layerNorm, softmax } from '../../graph/ops/nn.js';
import { argMax, reduceSum } from '../../graph/ops/reduce.js';
import { gather, reshape, split, transpose, unsqueeze } from '../../graph/ops/shape.js';
import { type Tensor, hostTensor } from '../../graph/tensor.js';
import { DINOTXT_EPS, type DinoTxtConfig } from './config.js';
import { type DinoTxtParams } from './params.js';

/** A large negative score: exp of it underflows to exactly 0, unlike −∞ it never makes NaN. */
const MASKED = -1e9;

function need(p: DinoTxtParams, name: string): Tensor {
  const t = p[name];
  if (!t) throw new Error(`dino.txt text tower: missing parameter ${name}`);
  return t;
}

/** Causal self-attention on x (B, C, W): position i attends to positions ≤ i. */
function causalAttention(g: Graph, x: Tensor, P: (s: string) => Tensor, heads: number): Tensor {
  const [B, C, W] = x.dims;
  const hd = x.shape[2] / heads;
  const [q0, k0, v0] = split(linear(x, P('attention.qkv.weight'), null), 3, -1); // (B, C, W) each
  const q = transpose(reshape(mul(q0, 1 / Math.sqrt(hd)), [B, C, heads, hd]), [0, 2, 1, 3]); // (B, h, C, hd)
  const kT = transpose(reshape(k0, [B, C, heads, hd]), [0, 2, 3, 1]); // (B, h, hd, C)
  const v = transpose(reshape(v0, [B, C, heads, hd]), [0, 2, 1, 3]); // (B, h, C, hd)
  const n = x.shape[1];
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const m = dtype === 'float64' ? new Float64Array(n * n) : new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i * n + j] = MASKED;
  const mask = g.constant(hostTensor(dtype, [n, n], m), 'causal_mask'); // (C, C)
  const a = softmax(add(matmul(q, kT), mask), -1); // (B, h, C, C)
  const out = reshape(transpose(matmul(a, v), [0, 2, 1, 3]), [B, C, W]); // (B, C, W)
  return linear(out, P('attention.proj.weight'), P('attention.proj.bias'));
}

/**
 * Text embeddings (B, E), not normalised, of int64 token ids (B, C) as the tokenizer writes them.
 * `params` in graph layout (dinoTxtGraphParams with part 'text').
 */
export function buildTextTower(g: Graph, tokens: Tensor, c: DinoTxtConfig, params: DinoTxtParams): Tensor {
  if (tokens.rank !== 2 || tokens.shape[1] !== c.contextLength || tokens.dtype !== 'int64')
    throw new Error(`dino.txt text tower: tokens ${tokens} must be int64 (B, ${c.contextLength})`);
  const P = (name: string): Tensor => need(params, `text_model.${name}`);
  return g.scope('text', () => {
    let x = gather(P('backbone.token_embedding.weight'), tokens, 0); // (B, C, W)
    x = add(x, P('backbone.positional_embedding')); // (B, C, W)
    for (let i = 0; i < c.textDepth; i++) {
      const b = (s: string): Tensor => P(`backbone.blocks.${i}.${s}`);
      x = g.scope(`blocks.${i}`, () => {
        const h1 = layerNorm(x, b('attention_norm.weight'), b('attention_norm.bias'), DINOTXT_EPS);
        const x1 = add(
          x,
          g.scope('attention', () => causalAttention(g, h1, b, c.textHeads)),
        );
        const h2 = layerNorm(x1, b('ffn_norm.weight'), b('ffn_norm.bias'), DINOTXT_EPS);
        const m = linear(
          gelu(linear(h2, b('feed_forward.fc1.weight'), b('feed_forward.fc1.bias'))),
          b('feed_forward.fc2.weight'),
          b('feed_forward.fc2.bias'),
        );
        return add(x1, m); // (B, C, W)
      });
    }
    const xn = layerNorm(x, P('backbone.ln_final.weight'), P('backbone.ln_final.bias'), DINOTXT_EPS); // (B, C, W)
    // The argmax pooler: ids are below 2^24, exact in float32; the one-hot keeps the pick differentiable.
    const eot = argMax(cast(tokens, 'float32'), 1, true); // (B, 1) int64
    const positions = g.constant(
      hostTensor(
        'int64',
        [1, c.contextLength],
        Array.from({ length: c.contextLength }, (_, i) => i),
      ),
      'positions',
    );
    const pick = unsqueeze(cast(equal(positions, eot), xn.dtype), 2); // (B, C, 1)
    const pooled = reduceSum(mul(xn, pick), [1]); // (B, W)
    return linear(pooled, P('head.linear_projection.weight'), null); // (B, E)
  });
}

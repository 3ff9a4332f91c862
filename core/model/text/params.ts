// dino.txt parameters under the official checkpoint keys (dinov3_vitl16_dinotxt_vision_head_and_text_encoder
// .pth: DINOTxt.state_dict() without the backbone), PyTorch shapes. In graphs, Linear weights are
// (in, out) like the ViT's (params.ts); the token embedding stays (vocab, width): it is gathered from, not
// multiplied.
import { type Graph } from '../../graph/graph.js';
import { type DType, type HostTensor, type Tensor } from '../../graph/tensor.js';
import { toGraphLayout, fromGraphLayout } from '../params.js';
import { type DinoTxtConfig } from './config.js';

export const TEXT_PREFIX = 'text_model.';
export const VISION_HEAD_PREFIX = 'visual_model.head.';
export const LOGIT_SCALE = 'logit_scale';
const TOKEN_EMBEDDING = 'text_model.backbone.token_embedding.weight';

export type DinoTxtPart = 'text' | 'vision' | 'scale';

export interface DinoTxtParamSpec {
  name: string;
  /** PyTorch shape. */
  shape: number[];
  part: DinoTxtPart;
}

/** The vision head's SwiGLU width: int(4D · 2/3) rounded up to a multiple of 64. */
export const visionHeadHidden = (c: DinoTxtConfig): number => Math.ceil(Math.floor((4 * c.visionDim * 2) / 3) / 64) * 64;

/** Every parameter of a config, text tower first, then the vision head, then logit_scale. */
export function dinoTxtParamSpecs(c: DinoTxtConfig): DinoTxtParamSpec[] {
  const out: DinoTxtParamSpec[] = [];
  const add = (part: DinoTxtPart, name: string, ...shape: number[]): number => out.push({ name, shape, part });
  const T = c.textDim;
  const Ht = Math.floor(c.textFfnRatio * T);
  const tb = 'text_model.backbone.';
  add('text', TOKEN_EMBEDDING, c.vocabSize, T);
  add('text', `${tb}positional_embedding`, c.contextLength, T);
  for (let i = 0; i < c.textDepth; i++) {
    const b = `${tb}blocks.${i}.`;
    add('text', `${b}attention_norm.weight`, T);
    add('text', `${b}attention_norm.bias`, T);
    add('text', `${b}attention.qkv.weight`, 3 * T, T);
    add('text', `${b}attention.proj.weight`, T, T);
    add('text', `${b}attention.proj.bias`, T);
    add('text', `${b}ffn_norm.weight`, T);
    add('text', `${b}ffn_norm.bias`, T);
    add('text', `${b}feed_forward.fc1.weight`, Ht, T);
    add('text', `${b}feed_forward.fc1.bias`, Ht);
    add('text', `${b}feed_forward.fc2.weight`, T, Ht);
    add('text', `${b}feed_forward.fc2.bias`, T);
  }
  add('text', `${tb}ln_final.weight`, T);
  add('text', `${tb}ln_final.bias`, T);
  add('text', 'text_model.head.linear_projection.weight', c.embedDim, T);
  const D = c.visionDim;
  const Hv = visionHeadHidden(c);
  for (let i = 0; i < c.visionHeadBlocks; i++) {
    const b = `${VISION_HEAD_PREFIX}blocks.${i}.`;
    add('vision', `${b}norm1.weight`, D);
    add('vision', `${b}norm1.bias`, D);
    add('vision', `${b}attn.qkv.weight`, 3 * D, D);
    add('vision', `${b}attn.proj.weight`, D, D);
    add('vision', `${b}attn.proj.bias`, D);
    add('vision', `${b}ls1.gamma`, D);
    add('vision', `${b}norm2.weight`, D);
    add('vision', `${b}norm2.bias`, D);
    for (const w of ['w1', 'w2']) {
      add('vision', `${b}mlp.${w}.weight`, Hv, D);
      add('vision', `${b}mlp.${w}.bias`, Hv);
    }
    add('vision', `${b}mlp.w3.weight`, D, Hv);
    add('vision', `${b}mlp.w3.bias`, D);
    add('vision', `${b}ls2.gamma`, D);
  }
  if (c.visionHeadBlocks > 0) {
    add('vision', `${VISION_HEAD_PREFIX}ln_final.weight`, D);
    add('vision', `${VISION_HEAD_PREFIX}ln_final.bias`, D);
  }
  if (c.visionProjection) add('vision', `${VISION_HEAD_PREFIX}linear_projection.weight`, c.embedDim / 2, D);
  add('scale', LOGIT_SCALE, 1);
  return out;
}

const keepsLayout = (name: string): boolean => name === TOKEN_EMBEDDING;

/** PyTorch layout → graph layout for one parameter. */
export function dinoTxtToGraph<D extends DType>(name: string, t: HostTensor<D>): HostTensor<D> {
  return keepsLayout(name) ? t : toGraphLayout(name, t);
}

/** Graph layout → PyTorch layout for one parameter. */
export function dinoTxtFromGraph<D extends DType>(name: string, t: HostTensor<D>): HostTensor<D> {
  return keepsLayout(name) ? t : fromGraphLayout(name, t);
}

/** The graph shape of a parameter. */
export function dinoTxtGraphShape(name: string, shape: readonly number[]): number[] {
  return !keepsLayout(name) && shape.length === 2 && name.endsWith('.weight') ? [shape[1], shape[0]] : [...shape];
}

export type DinoTxtParams = Record<string, Tensor>;

/**
 * Graph tensors for the parameters of `parts`: initializers from `values` (PyTorch layout), or graph
 * parameters fed at run time (graph layout) where `values` is absent or `declare` names the part.
 */
export function dinoTxtGraphParams(
  g: Graph,
  c: DinoTxtConfig,
  parts: readonly DinoTxtPart[],
  o: { values?: ReadonlyMap<string, HostTensor>; declare?: readonly DinoTxtPart[]; dtype?: 'float32' | 'float64' } = {},
): DinoTxtParams {
  const dtype = o.dtype ?? 'float32';
  const p: DinoTxtParams = {};
  for (const s of dinoTxtParamSpecs(c)) {
    if (!parts.includes(s.part)) continue;
    if (!o.values || o.declare?.includes(s.part)) {
      p[s.name] = g.param(s.name, dinoTxtGraphShape(s.name, s.shape), dtype);
      continue;
    }
    const v = o.values.get(s.name);
    if (!v) throw new Error(`dino.txt: no value for ${s.name}`);
    const t = dinoTxtToGraph(s.name, v);
    const data = dtype === 'float64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array);
    p[s.name] = g.constant({ dtype, dims: t.dims, data }, s.name);
  }
  return p;
}

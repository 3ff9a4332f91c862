// The trained model's parts as graph parameters: backbone (canonical core/model names), DINO head and iBOT
// head (scoped 'dino_head/…', 'ibot_head/…'). The student step, the teacher forward and the EMA all declare
// the same names, so state moves between their runners by name.
//
// In the graphs the parameters live in flat buffers (core/graph/flat.ts), one per optimiser group: the
// backbone, each head (`flat/backbone`, `flat/dino_head`, `flat/ibot_head`, 1-D graph parameters). The forward
// reads each tensor as a view (Slice + Reshape); AdamW and the EMA update whole buffers. Everything outside
// the runners (checkpoints, weight export, the health monitor, the Gram teacher) keeps one tensor per name:
// `packModel` / `unpackModel` convert at that border.
import { type FlatLayout, flatLayout, flatViews, packFlat, unpackFlat } from '../graph/flat.js';
import { type Graph } from '../graph/graph.js';
import { type DType, type HostTensor, type Tensor } from '../graph/tensor.js';
import { DinoscopeError } from '../common/errors.js';
import { type ViTConfig } from '../model/config.js';
import { graphShape, paramSpecs } from '../model/params.js';
import { type ViTParams, declareParams } from '../model/vit.js';
import { type HeadConfig, type HeadParams, declareHeadParams, headGraphShape, headParamSpecs } from './heads.js';

export const HEADS = ['dino_head', 'ibot_head'] as const;
export type HeadName = (typeof HEADS)[number];

/** The model's flat buffers (one per optimiser group), in state order. */
export const MODEL_PARTS = ['backbone', ...HEADS] as const;
export type ModelPart = (typeof MODEL_PARTS)[number];

/** The graph parameter (and runner state) name of a part's flat buffer. */
export const flatName = (part: ModelPart): string => `flat/${part}`;

export interface ModelParams {
  backbone: ViTParams;
  heads: Record<HeadName, HeadParams>;
  /** Each part's flat buffer (a 1-D graph parameter) and the layout of its tensors in it; null for 'per-tensor'. */
  flat: Record<ModelPart, { buffer: Tensor; layout: FlatLayout }> | null;
}

/** Graph parameter name → graph shape for every parameter of the model, backbone first. */
export function modelParamShapes(vit: ViTConfig, head: HeadConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of paramSpecs(vit)) out.set(s.name, graphShape(s.name, s.shape));
  for (const h of HEADS) for (const s of headParamSpecs(head, vit.dim)) out.set(`${h}/${s.name}`, headGraphShape(s));
  return out;
}

/** Each part's flat layout: its tensors (graph names and shapes) in modelParamShapes order. */
export function modelLayouts(vit: ViTConfig, head: HeadConfig): Record<ModelPart, FlatLayout> {
  const shapes = [...modelParamShapes(vit, head)].map(([name, shape]) => ({ name, shape }));
  const partOf = (name: string): ModelPart => HEADS.find((h) => name.startsWith(`${h}/`)) ?? 'backbone';
  return Object.fromEntries(MODEL_PARTS.map((p) => [p, flatLayout(shapes.filter((s) => partOf(s.name) === p))])) as Record<
    ModelPart,
    FlatLayout
  >;
}

/** Declares the model's flat buffers in `g` (graph parameters `flat/<part>`), without views. */
export function declareFlat(g: Graph, vit: ViTConfig, head: HeadConfig, dtype: DType = 'float32'): NonNullable<ModelParams['flat']> {
  const layouts = modelLayouts(vit, head);
  const flat = {} as NonNullable<ModelParams['flat']>;
  for (const part of MODEL_PARTS) {
    const layout = layouts[part];
    flat[part] = {
      buffer: g.param(flatName(part), [layout.size], dtype, `the ${part}'s parameters end to end (model.ts modelLayouts)`),
      layout,
    };
  }
  return flat;
}

/**
 * How a graph holds the parameters: 'flat' buffers (what the trainer runs), or 'per-tensor' graph parameters
 * named as the tensors (the form before flat buffers: the test oracle and the bench's comparison).
 */
export type ParamLayout = 'flat' | 'per-tensor';

/**
 * Declares the model's flat buffers in `g` and returns every parameter as a view of its buffer ('flat'), or
 * declares one graph parameter per tensor ('per-tensor': `flat` is null).
 */
export function declareModel(
  g: Graph,
  vit: ViTConfig,
  head: HeadConfig,
  layout: ParamLayout = 'flat',
  dtype: DType = 'float32',
): ModelParams {
  if (layout === 'per-tensor') {
    const backbone = declareParams(g, vit, dtype);
    const heads = {} as Record<HeadName, HeadParams>;
    for (const h of HEADS) heads[h] = g.scope(h, () => declareHeadParams(g, head, vit.dim, dtype));
    return { backbone, heads, flat: null };
  }
  const flat = declareFlat(g, vit, head, dtype);
  const views = new Map<string, Tensor>();
  for (const part of MODEL_PARTS) {
    const { buffer, layout } = flat[part];
    g.scope(`params/${part}`, () => flatViews(buffer, layout)).forEach((v, i) => views.set(layout.segments[i].name, v));
  }
  const backbone: ViTParams = {};
  for (const s of paramSpecs(vit)) backbone[s.name] = views.get(s.name)!;
  const heads = {} as Record<HeadName, HeadParams>;
  for (const h of HEADS)
    heads[h] = { byName: Object.fromEntries(headParamSpecs(head, vit.dim).map((s) => [s.name, views.get(`${h}/${s.name}`)!])) };
  return { backbone, heads, flat };
}

/** The state a graph of `p` holds: the flat buffers, or (per-tensor) every parameter in modelParamShapes order. */
export function modelTensors(p: ModelParams): Tensor[] {
  if (p.flat) return MODEL_PARTS.map((part) => p.flat![part].buffer);
  return [...Object.values(p.backbone), ...HEADS.flatMap((h) => Object.values(p.heads[h].byName))];
}

/** The flat buffers of the per-tensor `values`; CORRUPT naming the first tensor missing or misshapen. */
export function packModel(
  layouts: Record<ModelPart, FlatLayout>,
  values: ReadonlyMap<string, HostTensor>,
  what = 'Training state',
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const part of MODEL_PARTS) {
    try {
      out.set(
        flatName(part),
        packFlat(layouts[part], (n) => values.get(n)),
      );
    } catch (e) {
      throw new DinoscopeError('CORRUPT', `${what}: ${(e as Error).message}.`);
    }
  }
  return out;
}

/** The per-tensor values of the flat buffers `flat` (graph names, graph layout). */
export function unpackModel(layouts: Record<ModelPart, FlatLayout>, flat: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const part of MODEL_PARTS) {
    const buffer = flat.get(flatName(part));
    if (!buffer) throw new Error(`unpackModel: no ${flatName(part)}`);
    for (const [k, t] of unpackFlat(layouts[part], buffer)) out.set(k, t);
  }
  return out;
}

/** A graph parameter name ('dino_head/mlp.0.weight') ↔ a checkpoint key ('dino_head.mlp.0.weight'). */
export const checkpointKey = (graphName: string): string => graphName.replace('/', '.');
export const graphName = (key: string): string =>
  key.startsWith('dino_head.') || key.startsWith('ibot_head.') ? key.replace('.', '/') : key;

export type ModelValues = Map<string, HostTensor>;

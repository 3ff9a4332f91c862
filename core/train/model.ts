// The trained model's parts as graph parameters: backbone (canonical core/model names), DINO head and iBOT
// head (scoped 'dino_head/…', 'ibot_head/…'). The student step, the teacher forward and the EMA all declare
// the same names, so state moves between their runners by name.
import { type Graph } from '../graph/graph.js';
import { type DType, type HostTensor, type Tensor } from '../graph/tensor.js';
import { type ViTConfig } from '../model/config.js';
import { graphShape, paramSpecs } from '../model/params.js';
import { declareParams, type ViTParams } from '../model/vit.js';
import { type HeadConfig, type HeadParams, declareHeadParams, headGraphShape, headParamSpecs } from './heads.js';

export const HEADS = ['dino_head', 'ibot_head'] as const;
export type HeadName = (typeof HEADS)[number];

export interface ModelParams {
  backbone: ViTParams;
  heads: Record<HeadName, HeadParams>;
}

export function declareModel(g: Graph, vit: ViTConfig, head: HeadConfig, dtype: DType = 'float32'): ModelParams {
  const backbone = declareParams(g, vit, dtype);
  const heads = {} as Record<HeadName, HeadParams>;
  for (const h of HEADS) heads[h] = g.scope(h, () => declareHeadParams(g, head, vit.dim, dtype));
  return { backbone, heads };
}

/** Graph parameter name → graph shape for every parameter of the model, backbone first. */
export function modelParamShapes(vit: ViTConfig, head: HeadConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of paramSpecs(vit)) out.set(s.name, graphShape(s.name, s.shape));
  for (const h of HEADS) for (const s of headParamSpecs(head, vit.dim)) out.set(`${h}/${s.name}`, headGraphShape(s));
  return out;
}

/** Graph tensors of the model in modelParamShapes order. */
export function modelTensors(p: ModelParams): Tensor[] {
  return [...Object.values(p.backbone), ...HEADS.flatMap((h) => Object.values(p.heads[h].byName))];
}

/** A graph parameter name ('dino_head/mlp.0.weight') ↔ a checkpoint key ('dino_head.mlp.0.weight'). */
export const checkpointKey = (graphName: string): string => graphName.replace('/', '.');
export const graphName = (key: string): string =>
  key.startsWith('dino_head.') || key.startsWith('ibot_head.') ? key.replace('.', '/') : key;

export type ModelValues = Map<string, HostTensor>;

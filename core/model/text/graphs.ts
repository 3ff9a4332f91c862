// Serialisable dino.txt graphs: the text tower (input 'tokens' (batch, C) int64 → 'text' (batch, E)), the
// vision head alone on backbone tokens, and the backbone with its head on images ('images' → 'cls'
// (B, E/2), 'patches' (B, N, E/2), 'image' (B, E)), each with weights embedded as initializers or fed
// as parameters; and their standalone ONNX exports (dynamic batch; images also dynamic height and width).
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { optimize } from '../../graph/optimize.js';
import { concat, reshape } from '../../graph/ops/shape.js';
import { type HostTensor } from '../../graph/tensor.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type ViTConfig } from '../config.js';
import { buildViT, constantParams } from '../vit.js';
import { type DinoTxtConfig } from './config.js';
import { type DinoTxtPart, dinoTxtGraphParams } from './params.js';
import { buildTextTower } from './text-tower.js';
import { buildVisionHead } from './vision-head.js';

type Weights = ReadonlyMap<string, HostTensor>;

export interface DinoTxtGraphOptions {
  /** A number fixes the batch; a name makes it symbolic (default 'batch'). */
  batch?: number | string;
  /** Embedded weights; without them every parameter is a graph parameter fed at run time (graph layout). */
  values?: Weights;
  /** Parts fed at run time even though `values` are given (training what they name). */
  declare?: readonly DinoTxtPart[];
  dtype?: 'float32' | 'float64';
}

/** 'tokens' (B, C) int64 → 'text' (B, E). */
export function textGraph(c: DinoTxtConfig, o: DinoTxtGraphOptions = {}): Graph {
  const g = new Graph('dinoscope_dinotxt_text');
  const tokens = g.input('tokens', [o.batch ?? 'batch', c.contextLength], 'int64', 'BPE token ids, <|endoftext|> then zeros', { batch: 3 });
  const p = dinoTxtGraphParams(g, c, ['text'], o);
  g.output(buildTextTower(g, tokens, c, p), 'text');
  optimize(g);
  return g;
}

/** 'tokens' (B, T, D): a backbone's normed [CLS, registers, patches] → 'cls', 'patches', 'image'. */
export function visionHeadGraph(c: DinoTxtConfig, registers: number, tokenCount: number, o: DinoTxtGraphOptions = {}): Graph {
  const g = new Graph('dinoscope_dinotxt_vision_head');
  const dtype = o.dtype ?? 'float32';
  const tokens = g.input('tokens', [o.batch ?? 'batch', tokenCount, c.visionDim], dtype, 'backbone tokens after its final norm', {
    batch: 3,
  });
  const r = buildVisionHead(g, tokens, registers, c, dinoTxtGraphParams(g, c, ['vision'], o));
  g.output(r.cls, 'cls');
  g.output(r.patches, 'patches');
  g.output(r.image, 'image');
  optimize(g);
  return g;
}

export interface DinoTxtVisionOptions {
  batch?: number | string;
  height?: number | string;
  width?: number | string;
  /** Also output the backbone's own patch tokens as 'backbonePatches'. */
  backbonePatches?: boolean;
}

/** 'images' (B, 3, H, W), normalised → the backbone (weights embedded) → the head → 'cls', 'patches', 'image'. */
export function dinoTxtVisionGraph(
  vit: ViTConfig,
  vitValues: Record<string, HostTensor>,
  c: DinoTxtConfig,
  values: Weights,
  o: DinoTxtVisionOptions = {},
): Graph {
  if (vit.dim !== c.visionDim)
    throw new Error(`dino.txt: the vision head is ${c.visionDim} wide but the backbone ${vit.dim}; it was trained on another backbone`);
  const g = new Graph('dinoscope_dinotxt_vision');
  const probe = { batch: 3, height: 11 * vit.patchSize, width: 13 * vit.patchSize };
  const images = g.input(
    'images',
    [o.batch ?? 'batch', vit.inChans, o.height ?? 'height', o.width ?? 'width'],
    'float32',
    'normalised RGB (B, 3, H, W)',
    probe,
  );
  const b = buildViT(g, images, vit, { params: constantParams(g, vit, vitValues) });
  const [B] = images.dims;
  const parts = [reshape(b.cls, [B, 1, vit.dim]), ...(vit.registers > 0 ? [b.registers] : []), b.patches];
  const r = buildVisionHead(g, concat(parts, 1), vit.registers, c, dinoTxtGraphParams(g, c, ['vision'], { values }));
  g.output(r.cls, 'cls');
  g.output(r.patches, 'patches');
  g.output(r.image, 'image');
  if (o.backbonePatches) g.output(b.patches, 'backbonePatches');
  optimize(g);
  return g;
}

/** Writes the text tower as a standalone ONNX file (dynamic batch) atomically; returns its size. */
export async function exportTextOnnx(path: string, c: DinoTxtConfig, values: Weights): Promise<number> {
  const bytes = serialize(textGraph(c, { values }));
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** Writes backbone + vision head as a standalone ONNX file (dynamic batch, height, width) atomically. */
export async function exportVisionOnnx(
  path: string,
  vit: ViTConfig,
  vitValues: Record<string, HostTensor>,
  c: DinoTxtConfig,
  values: Weights,
): Promise<number> {
  const bytes = serialize(dinoTxtVisionGraph(vit, vitValues, c, values));
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

// Importing a dino.txt checkpoint: the official vision-head-and-text-encoder file (.pth, read without
// executing pickled code: weights/pth.ts) or the same keys in safetensors. The config comes from the
// tensor shapes; what shapes cannot tell (the heads) from a config.json beside the file, else 64-wide
// heads (the released model's: 20 text heads of 1280, 16 vision heads of 1024).
// Every missing, mis-shaped and unknown key is reported in ONE error; the backbone's own keys, when a
// checkpoint carries them, are skipped (the backbone is imported as a ViT model).
import { extname } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { readConfigBeside } from '../weights/import.js';
import { PthFile } from '../weights/pth.js';
import { SafetensorsFile, toFloat32, type SafetensorsDtype } from '../weights/safetensors.js';
import { type DinoTxtConfig, validateDinoTxtConfig } from './config.js';
import { dinoTxtParamSpecs, LOGIT_SCALE, TEXT_PREFIX, VISION_HEAD_PREFIX } from './params.js';

export interface DinoTxtWeights {
  path: string;
  config: DinoTxtConfig;
  /** Official key → float32 tensor, PyTorch layout. */
  tensors: Map<string, HostTensor<'float32'>>;
  /** Stored keys not loaded (a backbone's, training state). */
  skipped: string[];
}

interface Stored {
  names: Map<string, { shape: number[]; dtype: SafetensorsDtype }>;
  read(name: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openStored(path: string): Promise<Stored> {
  if (extname(path).toLowerCase() === '.safetensors') {
    const f = await SafetensorsFile.open(path);
    return {
      names: new Map(f.names().map((n) => [n, { shape: f.info(n).shape, dtype: f.info(n).dtype }])),
      read: (n) => f.readRaw(n),
      close: () => f.close(),
    };
  }
  const f = await PthFile.open(path);
  return {
    names: new Map(f.tensors().map((t) => [t.name, { shape: t.shape, dtype: t.dtype }])),
    read: (n) => f.read(n),
    close: () => f.close(),
  };
}

const countBlocks = (names: Iterable<string>, prefix: string): number => {
  let n = 0;
  for (const k of names) {
    const m = k.startsWith(prefix) ? /^(\d+)\./.exec(k.slice(prefix.length)) : null;
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
};

function inferConfig(path: string, shapes: Map<string, number[]>, hints: Record<string, unknown>): DinoTxtConfig {
  const shape = (k: string): number[] => {
    const s = shapes.get(k);
    if (!s)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${path}: not a dino.txt checkpoint (no ${k}); it should hold the text encoder (text_model.*) and vision head (visual_model.head.*) of DINOTxt.`,
      );
    return s;
  };
  const [vocabSize, textDim] = shape('text_model.backbone.token_embedding.weight');
  const [contextLength] = shape('text_model.backbone.positional_embedding');
  const [embedDim] = shape('text_model.head.linear_projection.weight');
  const visionHeadBlocks = countBlocks(shapes.keys(), `${VISION_HEAD_PREFIX}blocks.`);
  const visionProjection = shapes.has(`${VISION_HEAD_PREFIX}linear_projection.weight`);
  const visionDim = visionProjection
    ? shape(`${VISION_HEAD_PREFIX}linear_projection.weight`)[1]
    : visionHeadBlocks > 0
      ? shape(`${VISION_HEAD_PREFIX}ln_final.weight`)[0]
      : embedDim / 2;
  const fc1 = shapes.get('text_model.backbone.blocks.0.feed_forward.fc1.weight');
  const known = new Set(['textHeads', 'visionHeads']);
  for (const k of Object.keys(hints))
    if (!known.has(k))
      throw new DinoscopeError('BAD_INPUT', `${path}: config.json beside it has an unknown key ${k} (textHeads, visionHeads).`);
  return validateDinoTxtConfig({
    embedDim,
    contextLength,
    vocabSize,
    textDim,
    textHeads: hints.textHeads ?? Math.max(1, Math.round(textDim / 64)),
    textDepth: countBlocks(shapes.keys(), 'text_model.backbone.blocks.'),
    textFfnRatio: fc1 ? fc1[0] / textDim : 4,
    visionDim,
    visionHeads: hints.visionHeads ?? Math.max(1, Math.round(visionDim / 64)),
    visionHeadBlocks,
    visionProjection,
  });
}

/** True when a checkpoint's keys are dino.txt's (used to tell it from a ViT checkpoint). */
export function looksLikeDinoTxt(names: Iterable<string>): boolean {
  for (const n of names) if (n.startsWith(TEXT_PREFIX) || n.startsWith(VISION_HEAD_PREFIX)) return true;
  return false;
}

/** Loads a dino.txt checkpoint (.pth or .safetensors) into float32 tensors under the official keys. */
export async function loadDinoTxt(path: string, o: { hints?: Record<string, unknown> } = {}): Promise<DinoTxtWeights> {
  const stored = await openStored(path);
  try {
    // A wrapper prefix (DDP's module.) on every key is dropped.
    const all = [...stored.names.keys()];
    const prefix = all.length > 0 && all.every((n) => n.startsWith('module.')) ? 'module.' : '';
    const shapes = new Map(all.map((n) => [n.slice(prefix.length), stored.names.get(n)!.shape]));
    const hints = o.hints ?? (await readConfigBeside(path)) ?? {};
    const config = inferConfig(path, shapes, hints);
    const specs = dinoTxtParamSpecs(config);
    const wanted = new Set(specs.map((s) => s.name));
    const missing: string[] = [];
    const misShaped: string[] = [];
    for (const s of specs) {
      const got = shapes.get(s.name);
      if (!got) {
        if (s.name !== LOGIT_SCALE) missing.push(s.name);
      } else if (got.join(',') !== s.shape.join(',')) misShaped.push(`${s.name} is [${got.join(', ')}], expected [${s.shape.join(', ')}]`);
    }
    const unknown = [...shapes.keys()].filter((k) => !wanted.has(k) && (k.startsWith(TEXT_PREFIX) || k.startsWith(VISION_HEAD_PREFIX)));
    if (missing.length || misShaped.length || unknown.length) {
      const part = (what: string, xs: string[]): string =>
        xs.length ? ` ${what}: ${xs.slice(0, 20).join('; ')}${xs.length > 20 ? ` and ${xs.length - 20} more` : ''}.` : '';
      throw new DinoscopeError(
        'BAD_INPUT',
        `${path}: does not match a dino.txt model of its own shapes.${part('Missing', missing)}${part('Wrong shape', misShaped)}${part('Unknown', unknown)} If the heads differ from 64-wide, state textHeads and visionHeads in a config.json beside the file.`,
      );
    }
    const tensors = new Map<string, HostTensor<'float32'>>();
    for (const s of specs) {
      const info = stored.names.get(prefix + s.name);
      if (!info) {
        // Only logit_scale may be absent (it scales training logits, not scores): its initial value, ln(1/0.07).
        tensors.set(s.name, hostTensor('float32', [1], [Math.log(1 / 0.07)]));
        continue;
      }
      tensors.set(s.name, hostTensor('float32', s.shape, toFloat32(info.dtype, await stored.read(prefix + s.name))));
    }
    const skipped = [...shapes.keys()].filter((k) => !wanted.has(k));
    return { path, config, tensors, skipped };
  } finally {
    await stored.close();
  }
}

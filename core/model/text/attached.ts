// A dino.txt text tower and vision head attached to a backbone's model folder, in `dinotxt/` beside its
// model.safetensors: `weights.safetensors` (the official keys, float32), `vocab.txt.gz` (the BPE
// vocabulary, as given) and `dinotxt.json` (config, where the files came from, licence). Extraction with
// such a model stores the vision head's patch embeddings, which text queries score
// (core/features/extract, core/analysis).
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { replaceAtomic, writeFileAtomic } from '../../io/atomic.js';
import { type HostTensor } from '../../graph/tensor.js';
import { type ViTConfig } from '../config.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import { type DinoTxtConfig, validateDinoTxtConfig } from './config.js';
import { dinoTxtParamSpecs } from './params.js';
import { BpeTokenizer } from './tokenizer.js';
import { loadDinoTxt } from './weights.js';

export const DINOTXT_DIR = 'dinotxt';
const MANIFEST = 'dinotxt.json';
const WEIGHTS = 'weights.safetensors';
const VOCAB = 'vocab.txt.gz';

export interface AttachedManifest {
  config: DinoTxtConfig;
  /** The checkpoint and vocabulary files it was attached from. */
  source: string;
  vocab: string;
  attached: string;
}

export interface AttachedDinoTxt extends AttachedManifest {
  dir: string;
  tensors: Map<string, HostTensor<'float32'>>;
  tokenizer: BpeTokenizer;
}

/**
 * Checks a dino.txt checkpoint and vocabulary against a backbone and writes them into its model folder
 * (replacing an earlier attachment). BAD_INPUT in plain words when they do not fit the backbone.
 */
export async function attachDinoTxt(modelDir: string, vit: ViTConfig, weightsPath: string, vocabPath: string): Promise<AttachedManifest> {
  const w = await loadDinoTxt(weightsPath);
  if (w.config.visionDim !== vit.dim)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${weightsPath}: its vision head takes ${w.config.visionDim}-wide tokens but the model is ${vit.dim} wide; attach it to the backbone it was trained on.`,
    );
  if (w.config.visionHeads !== vit.heads && w.config.visionHeadBlocks > 0)
    throw new DinoscopeError('BAD_INPUT', `${weightsPath}: its vision head has ${w.config.visionHeads} heads, the backbone ${vit.heads}.`);
  const tok = await BpeTokenizer.fromFile(vocabPath).catch((err: unknown) => {
    throw new DinoscopeError('BAD_INPUT', `${vocabPath}: not a BPE vocabulary (${(err as Error).message}).`);
  });
  if (tok.vocabSize !== w.config.vocabSize)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${vocabPath}: gives ${tok.vocabSize} token ids but the text tower has ${w.config.vocabSize}; use the vocabulary it was trained with (the released model's is bpe_simple_vocab_16e6.txt.gz).`,
    );
  const dir = join(modelDir, DINOTXT_DIR);
  await mkdir(dir, { recursive: true });
  await writeDinoTxtWeights(dir, w.tensors);
  await replaceAtomic(join(dir, VOCAB), (tmp) => copyFile(vocabPath, tmp));
  const manifest: AttachedManifest = {
    config: w.config,
    source: basename(weightsPath),
    vocab: basename(vocabPath),
    attached: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Writes (atomically) the weights file of an attachment folder. */
export async function writeDinoTxtWeights(dir: string, tensors: ReadonlyMap<string, HostTensor>): Promise<void> {
  await writeSafetensors(
    join(dir, WEIGHTS),
    new Map([...tensors].map(([k, t]) => [k, { shape: t.dims, data: Float32Array.from(t.data as Float32Array) }])),
  );
}

/** The attachment's manifest, or null when the model has none. */
export async function readAttachedManifest(modelDir: string): Promise<AttachedManifest | null> {
  const file = join(modelDir, DINOTXT_DIR, MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as AttachedManifest;
    return { ...m, config: validateDinoTxtConfig(m.config as unknown as Record<string, unknown>) };
  } catch (err) {
    throw new DinoscopeError('CORRUPT', `${file}: damaged (${(err as Error).message}); attach the dino.txt weights again.`);
  }
}

/** The attached text tower and vision head with its tokenizer, or null when the model has none. */
export async function readAttachedDinoTxt(modelDir: string): Promise<AttachedDinoTxt | null> {
  const m = await readAttachedManifest(modelDir);
  if (!m) return null;
  const dir = join(modelDir, DINOTXT_DIR);
  const { tensors: raw } = await readSafetensors(join(dir, WEIGHTS));
  const tensors = new Map<string, HostTensor<'float32'>>();
  for (const s of dinoTxtParamSpecs(m.config)) {
    const t = raw.get(s.name);
    if (!t || t.shape.join(',') !== s.shape.join(','))
      throw new DinoscopeError('CORRUPT', `${join(dir, WEIGHTS)}: ${s.name} is missing or mis-shaped; attach the dino.txt weights again.`);
    tensors.set(s.name, { dtype: 'float32', dims: t.shape, data: t.data });
  }
  return { ...m, dir, tensors, tokenizer: await BpeTokenizer.fromFile(join(dir, VOCAB)) };
}

/** Removes a model's attachment (nothing when it has none). */
export async function detachDinoTxt(modelDir: string): Promise<void> {
  await rm(join(modelDir, DINOTXT_DIR), { recursive: true, force: true });
}

/**
 * Writes trained weights as the model's attachment (dinoscope align): the weights and manifest replaced,
 * the vocabulary copied from `vocabPath` when given (a first attachment), else kept.
 */
export async function saveDinoTxt(
  modelDir: string,
  config: DinoTxtConfig,
  tensors: ReadonlyMap<string, HostTensor>,
  source: string,
  vocabPath: string | null,
): Promise<AttachedManifest> {
  const dir = join(modelDir, DINOTXT_DIR);
  await mkdir(dir, { recursive: true });
  const before = await readAttachedManifest(modelDir);
  if (vocabPath) await replaceAtomic(join(dir, VOCAB), (tmp) => copyFile(vocabPath, tmp));
  else if (!before) throw new Error('saveDinoTxt: a first attachment needs its vocabulary');
  await writeDinoTxtWeights(dir, tensors);
  const manifest: AttachedManifest = {
    config,
    source,
    vocab: vocabPath ? basename(vocabPath) : before!.vocab,
    attached: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

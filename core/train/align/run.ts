// One LiT alignment from start to finish, the same for `dinoscope align` and the API's alignText (the
// app's "Align text (LiT)…"): read and check the pairs CSV against the project (every bad row named),
// load model M, continue its attached dino.txt or start a fresh one from a BPE vocabulary, compute the
// frozen backbone's tokens of every region (job 1), train the text tower and vision head (job 2), then
// attach the result to M atomically. `prepareAlign` does every check that needs no training, so the
// API's estimate refuses a bad request exactly as the run would.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AlignEstimate, AlignRequest, AlignSummary } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { ViTConfig } from '../../model/config.js';
import type { ModelManager } from '../../model/manager/manager.js';
import { type AttachedDinoTxt, readAttachedDinoTxt, saveDinoTxt } from '../../model/text/attached.js';
import { type DinoTxtConfig, validateDinoTxtConfig } from '../../model/text/config.js';
import { dinoTxtParamSpecs } from '../../model/text/params.js';
import { BpeTokenizer } from '../../model/text/tokenizer.js';
import type { Project } from '../../project/project.js';
import { forwardFlops } from '../distill/estimate.js';
import { initDinoTxt, LIT_DEFAULTS, type LitOptions, regionTokens, trainLit } from './lit.js';
import { type AlignPair, parsePairs } from './pairs.js';

/** The architecture of a fresh text tower when the request names none (small enough for a CPU). */
export const NEW_TOWER_DEFAULTS = { textDim: 256, textDepth: 4, textHeads: 4, context: 32, headBlocks: 2 } as const;

const ARCH_FIELDS = ['vocab', 'textDim', 'textDepth', 'textHeads', 'context', 'headBlocks'] as const;
type ArchField = (typeof ARCH_FIELDS)[number];
/** How messages name the request's fields (the API's names; the CLI passes its flags). */
const FIELD_NAMES: Record<ArchField, string> = {
  vocab: 'vocab',
  textDim: 'textDim',
  textDepth: 'textDepth',
  textHeads: 'textHeads',
  context: 'context',
  headBlocks: 'headBlocks',
};

export interface PreparedAlign {
  request: AlignRequest;
  options: LitOptions;
  pairs: AlignPair[];
  loaded: Awaited<ReturnType<ModelManager['load']>>;
  attached: AttachedDinoTxt | null;
  config: DinoTxtConfig;
  tokenizer: BpeTokenizer;
}

/** Checks the request (pairs file, model, vocabulary, architecture) and loads what the run needs. */
export async function prepareAlign(
  project: Project,
  models: ModelManager,
  request: AlignRequest,
  names: Record<ArchField, string> = FIELD_NAMES,
): Promise<PreparedAlign> {
  const options: LitOptions = {
    ...LIT_DEFAULTS,
    ...(request.steps !== undefined ? { steps: request.steps } : {}),
    ...(request.batch !== undefined ? { batch: request.batch } : {}),
    ...(request.lr !== undefined ? { lr: request.lr } : {}),
    ...(request.cropPatches !== undefined ? { cropPatches: request.cropPatches } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
  };
  let text: string;
  try {
    text = await readFile(request.pairs, 'utf8');
  } catch {
    throw new DinoscopeError('BAD_INPUT', `Cannot read the pairs file ${request.pairs}: choose a CSV file that exists and can be read.`);
  }
  const pairs = parsePairs(text, request.pairs, project);
  const loaded = await models.load(request.modelId);
  const attached = await readAttachedDinoTxt(loaded.model.path);
  let config: DinoTxtConfig;
  let tokenizer: BpeTokenizer;
  if (attached) {
    const given = ARCH_FIELDS.find((f) => request[f] !== undefined);
    if (given)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${request.modelId} already has a dino.txt text tower, which alignment continues with its own vocabulary and size; leave out ${names[given]}.`,
      );
    config = attached.config;
    tokenizer = attached.tokenizer;
  } else {
    if (!request.vocab)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${request.modelId} has no dino.txt text tower yet: give ${names.vocab} (a BPE vocabulary file, bpe_simple_vocab_16e6.txt.gz) to train a new one.`,
      );
    const vocab = request.vocab;
    tokenizer = await BpeTokenizer.fromFile(vocab).catch((err: unknown) => {
      throw new DinoscopeError('BAD_INPUT', `${vocab}: not a BPE vocabulary (${(err as Error).message}).`);
    });
    config = newTowerConfig(loaded.config, tokenizer.vocabSize, request);
  }
  return { request, options, pairs, loaded, attached, config, tokenizer };
}

function newTowerConfig(vit: ViTConfig, vocabSize: number, r: AlignRequest): DinoTxtConfig {
  return validateDinoTxtConfig({
    embedDim: 2 * vit.dim,
    contextLength: r.context ?? NEW_TOWER_DEFAULTS.context,
    vocabSize,
    textDim: r.textDim ?? NEW_TOWER_DEFAULTS.textDim,
    textHeads: r.textHeads ?? NEW_TOWER_DEFAULTS.textHeads,
    textDepth: r.textDepth ?? NEW_TOWER_DEFAULTS.textDepth,
    textFfnRatio: 4,
    visionDim: vit.dim,
    visionHeads: vit.heads,
    visionHeadBlocks: r.headBlocks ?? NEW_TOWER_DEFAULTS.headBlocks,
    visionProjection: false,
  });
}

// The time estimate: the work counted in FLOPs at one CPU core's rate (both sessions run one thread; the
// 31 GFLOP/s of core/features/extract/estimate.ts), plus what does not scale with FLOPs: building the
// training graph (autodiff and the session) and each step's many small operators, both growing with the
// blocks, AdamW on the host per parameter, and reading each region. Fitted on the 2-core CI machine
// under load (a backbone 32 wide, 32 pairs, batch 32; a tower 32 wide × 1 block and the default 256 × 4,
// each with 2 head blocks, at 3 to 45 steps: build about 2 s and 7.7 s, 0.1 to 0.165 s and 0.92 s a step,
// 0.04 s a region); the estimate came within 20 % of the whole run's time there. Not a bench figure:
// a quiet or faster machine runs faster, a larger backbone is counted by its FLOPs only.
const FLOPS_PER_SECOND = 31e9;
const SECONDS_PER_REGION = 0.04;
const SECONDS_PER_STEP = 0.03;
const SECONDS_PER_BLOCK_STEP = 0.035;
const SECONDS_PER_PARAM_STEP = 2e-8;
const BUILD_SECONDS_PER_BLOCK = 1.5;
const BUILD_SECONDS_MIN = 1;

/** Forward FLOPs of `depth` pre-norm blocks of width `w` over `t` tokens (FFN ratio 4). */
function blockFlops(depth: number, t: number, w: number): number {
  return depth * (2 * t * w * 3 * w + 2 * t * w * w + 4 * t * t * w + 2 * 2 * t * w * 4 * w);
}

/** What the run will do and about how long it takes on one core, before it starts. */
export function estimateAlign(p: PreparedAlign): AlignEstimate {
  const { options: o, config: c, loaded } = p;
  const vit = loaded.config;
  const side = o.cropPatches * vit.patchSize;
  const T = 1 + vit.registers + o.cropPatches * o.cropPatches;
  const B = Math.min(o.batch, p.pairs.length);
  const stepFlops =
    3 *
    B *
    (blockFlops(c.textDepth, c.contextLength, c.textDim) +
      blockFlops(c.visionHeadBlocks, T, c.visionDim) +
      2 * c.contextLength * c.textDim * c.embedDim);
  const blocks = c.textDepth + c.visionHeadBlocks;
  const params = dinoTxtParamSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const seconds =
    Math.max(BUILD_SECONDS_MIN, BUILD_SECONDS_PER_BLOCK * blocks - 2.5) +
    p.pairs.length * (forwardFlops(vit, side) / FLOPS_PER_SECOND + SECONDS_PER_REGION) +
    o.steps * (stepFlops / FLOPS_PER_SECOND + SECONDS_PER_STEP + SECONDS_PER_BLOCK_STEP * blocks + SECONDS_PER_PARAM_STEP * params);
  return {
    modelId: p.request.modelId,
    pairs: p.pairs.length,
    images: new Set(p.pairs.map((x) => x.imageId)).size,
    captions: new Set(p.pairs.map((x) => x.caption)).size,
    steps: o.steps,
    batch: B,
    start: p.attached ? 'continue' : 'new',
    textTower: { width: c.textDim, blocks: c.textDepth, heads: c.textHeads, context: c.contextLength, headBlocks: c.visionHeadBlocks },
    seconds: Math.round(seconds),
  };
}

/**
 * Runs the alignment as two jobs of kind 'align' (`<label>: backbone features`, then `<label>`: step s/N
 * with the loss; progress, ETA and cancel per region and per step) and attaches the result to the model.
 */
export async function runAlign(project: Project, p: PreparedAlign, jobs: JobRegistry, label: string): Promise<AlignSummary> {
  const { loaded, attached, config, tokenizer, options: o, pairs } = p;
  const vitValues = Object.fromEntries(
    [...loaded.tensors].map(([k, t]) => [k, { dtype: 'float32' as const, dims: t.shape, data: t.data }]),
  );
  const tokens = await jobs.run('align', `${label}: backbone features`, pairs.length, (job) =>
    regionTokens(project, pairs, loaded.config, vitValues, o.cropPatches, job),
  );
  const start = attached?.tensors ?? initDinoTxt(config, o.seed);
  const r = await jobs.run('align', label, o.steps, (job) =>
    trainLit(
      config,
      loaded.config.registers,
      tokens,
      pairs.map((x) => x.caption),
      tokenizer,
      start,
      o,
      job,
    ),
  );
  await saveDinoTxt(
    loaded.model.path,
    config,
    r.tensors,
    `dinoscope align on ${basename(p.request.pairs)}`,
    attached ? null : p.request.vocab!,
  );
  return {
    model: p.request.modelId,
    pairs: pairs.length,
    steps: o.steps,
    firstLoss: r.losses[0],
    lastLoss: r.losses.at(-1)!,
    seconds: Math.round(r.seconds * 10) / 10,
  };
}

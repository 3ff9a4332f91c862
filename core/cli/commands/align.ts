// `dinoscope align --project P --model M --pairs file.csv`: LiT alignment (core/train/align): trains a
// dino.txt text tower and vision head on image-region/caption pairs with the backbone M frozen, and
// attaches the result to M (its dinotxt/ folder), so features extracted with M answer text queries.
// Starts from M's attached dino.txt when it has one, else from fresh weights (--vocab and the text
// architecture flags). Progress with ETA on stderr, Ctrl-C cancels; JSON on stdout.
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { JobProgress } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { JobRegistry } from '../../jobs/registry.js';
import { ModelManager } from '../../model/manager/manager.js';
import { readAttachedDinoTxt, saveDinoTxt } from '../../model/text/attached.js';
import { type DinoTxtConfig, validateDinoTxtConfig } from '../../model/text/config.js';
import { BpeTokenizer } from '../../model/text/tokenizer.js';
import { parsePairs } from '../../train/align/pairs.js';
import { initDinoTxt, LIT_DEFAULTS, regionTokens, trainLit } from '../../train/align/lit.js';
import { openProjectFlag } from '../analysis.js';
import { checkFlags, type Command, flagNumber, flagValue, parseArgs } from '../command.js';

const FLAGS = [
  'project',
  'model',
  'pairs',
  'vocab',
  'steps',
  'batch',
  'lr',
  'crop-patches',
  'seed',
  'text-dim',
  'text-depth',
  'text-heads',
  'context',
  'head-blocks',
] as const;

const USAGE = `usage: dinoscope align --project P --model M --pairs FILE.csv [--steps N] [--batch B] [--lr X]
                       [--crop-patches K] [--seed S]
                       [--vocab V.txt.gz --text-dim W --text-depth L --text-heads H --context C --head-blocks K]

LiT alignment: trains a dino.txt text tower and vision head on the pairs with model M's backbone frozen,
then attaches them to M (dinoscope extract with M then stores text-searchable features; dinoscope search
--text). FILE.csv has a header naming image, x, y, width, height, caption: an image of the project (id,
file name or path), a region in level-0 pixels, its caption. Starts from M's attached dino.txt when it has
one; else from fresh weights, which need --vocab (a BPE vocabulary: bpe_simple_vocab_16e6.txt.gz) and
take the architecture flags (defaults: width 256, 4 blocks, 4 heads, context 32, 2 head blocks).
Defaults: ${LIT_DEFAULTS.steps} steps, batch ${LIT_DEFAULTS.batch}, lr ${LIT_DEFAULTS.lr}, regions resampled to ${LIT_DEFAULTS.cropPatches} × ${LIT_DEFAULTS.cropPatches} patches.
Prints JSON {model, pairs, steps, firstLoss, lastLoss, seconds}.`;

export const alignCommand: Command = {
  name: 'align',
  flags: FLAGS,
  summary: 'LiT alignment: train a dino.txt text tower on region/caption pairs (backbone frozen)',
  usage: USAGE,
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, FLAGS, 'align');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const modelId = flagValue(flags, 'model');
    const pairsFile = flagValue(flags, 'pairs');
    if (!modelId || !pairsFile) throw new DinoscopeError('BAD_INPUT', 'needs --model M and --pairs FILE.csv (see dinoscope align --help).');
    const o = {
      ...LIT_DEFAULTS,
      steps: flagNumber(flags, 'steps', true, true) ?? LIT_DEFAULTS.steps,
      batch: flagNumber(flags, 'batch', true, true) ?? LIT_DEFAULTS.batch,
      lr: flagNumber(flags, 'lr', false, true) ?? LIT_DEFAULTS.lr,
      cropPatches: flagNumber(flags, 'crop-patches', true, true) ?? LIT_DEFAULTS.cropPatches,
      seed: flagNumber(flags, 'seed', true) ?? LIT_DEFAULTS.seed,
    };
    const project = await openProjectFlag(flags);
    let text: string;
    try {
      text = await readFile(resolve(pairsFile), 'utf8');
    } catch {
      throw new DinoscopeError('BAD_INPUT', `cannot read the pairs file ${pairsFile}.`);
    }
    const pairs = parsePairs(text, pairsFile, project);
    const jobs = new JobRegistry();
    const models = new ModelManager({ projectDir: () => project.dir, jobs });
    const loaded = await models.load(modelId);
    const attached = await readAttachedDinoTxt(loaded.model.path);
    const vocab = flagValue(flags, 'vocab');
    let config: DinoTxtConfig;
    let tokenizer: BpeTokenizer;
    if (attached) {
      const arch = ['text-dim', 'text-depth', 'text-heads', 'context', 'head-blocks', 'vocab'].find((f) => flags.has(f));
      if (arch)
        throw new DinoscopeError('BAD_INPUT', `${modelId} already has a dino.txt text tower, which align continues; leave out --${arch}.`);
      config = attached.config;
      tokenizer = attached.tokenizer;
    } else {
      if (!vocab)
        throw new DinoscopeError(
          'BAD_INPUT',
          `${modelId} has no dino.txt text tower yet: give --vocab (a BPE vocabulary file) to train one.`,
        );
      tokenizer = await BpeTokenizer.fromFile(resolve(vocab)).catch((err: unknown) => {
        throw new DinoscopeError('BAD_INPUT', `${vocab}: not a BPE vocabulary (${(err as Error).message}).`);
      });
      const vit = loaded.config;
      config = validateDinoTxtConfig({
        embedDim: 2 * vit.dim,
        contextLength: flagNumber(flags, 'context', true, true) ?? 32,
        vocabSize: tokenizer.vocabSize,
        textDim: flagNumber(flags, 'text-dim', true, true) ?? 256,
        textHeads: flagNumber(flags, 'text-heads', true, true) ?? 4,
        textDepth: flagNumber(flags, 'text-depth', true, true) ?? 4,
        textFfnRatio: 4,
        visionDim: vit.dim,
        visionHeads: vit.heads,
        visionHeadBlocks: flagNumber(flags, 'head-blocks', true) ?? 2,
        visionProjection: false,
      });
    }
    const printer = (p: JobProgress): void => {
      if (p.state !== 'running') return;
      const eta = p.etaSeconds === null ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
      io.stderr(`${p.label}: ${p.message ?? `${p.done}/${p.total}`}${eta}\n`);
    };
    const off = jobs.on(printer);
    const onAbort = (): void => {
      for (const j of jobs.running()) jobs.get(j.jobId)?.cancel();
    };
    io.signal.addEventListener('abort', onAbort);
    try {
      const tokens = await jobs.run('align', 'align: backbone features', pairs.length, (job) =>
        regionTokens(
          project,
          pairs,
          loaded.config,
          Object.fromEntries([...loaded.tensors].map(([k, t]) => [k, { dtype: 'float32' as const, dims: t.shape, data: t.data }])),
          o.cropPatches,
          job,
        ),
      );
      const start = attached?.tensors ?? initDinoTxt(config, o.seed);
      const r = await jobs.run('align', 'align', o.steps, (job) =>
        trainLit(
          config,
          loaded.config.registers,
          tokens,
          pairs.map((p) => p.caption),
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
        `dinoscope align on ${basename(pairsFile)}`,
        attached ? null : resolve(vocab!),
      );
      io.stdout(
        `${JSON.stringify({ model: modelId, pairs: pairs.length, steps: o.steps, firstLoss: r.losses[0], lastLoss: r.losses.at(-1), seconds: Math.round(r.seconds * 10) / 10 }, null, 2)}\n`,
      );
      return 0;
    } finally {
      off();
      io.signal.removeEventListener('abort', onAbort);
    }
  },
};

// `dinoscope align --project P --model M --pairs file.csv`: LiT alignment (core/train/align): trains a
// dino.txt text tower and vision head on image-region/caption pairs with the backbone M frozen, and
// attaches the result to M (its dinotxt/ folder), so features extracted with M answer text queries.
// Starts from M's attached dino.txt when it has one, else from fresh weights (--vocab and the text
// architecture flags). Progress with ETA on stderr, Ctrl-C cancels; JSON on stdout.
import { resolve } from 'node:path';
import type { AlignRequest, JobProgress } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { JobRegistry } from '../../jobs/registry.js';
import { ModelManager } from '../../model/manager/manager.js';
import { LIT_DEFAULTS } from '../../train/align/lit.js';
import { NEW_TOWER_DEFAULTS, prepareAlign, runAlign } from '../../train/align/run.js';
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

/** The request's fields as this command's flags, for the shared checks' messages. */
const FLAG_OF = {
  vocab: '--vocab',
  textDim: '--text-dim',
  textDepth: '--text-depth',
  textHeads: '--text-heads',
  context: '--context',
  headBlocks: '--head-blocks',
} as const;

const USAGE = `usage: dinoscope align --project P --model M --pairs FILE.csv [--steps N] [--batch B] [--lr X]
                       [--crop-patches K] [--seed S]
                       [--vocab V.txt.gz --text-dim W --text-depth L --text-heads H --context C --head-blocks K]

LiT alignment: trains a dino.txt text tower and vision head on the pairs with model M's backbone frozen,
then attaches them to M (dinoscope extract with M then stores text-searchable features; dinoscope search
--text). FILE.csv has a header naming image, x, y, width, height, caption: an image of the project (id,
file name or path), a region in level-0 pixels, its caption. Starts from M's attached dino.txt when it has
one; else from fresh weights, which need --vocab (a BPE vocabulary: bpe_simple_vocab_16e6.txt.gz) and
take the architecture flags (defaults: width ${NEW_TOWER_DEFAULTS.textDim}, ${NEW_TOWER_DEFAULTS.textDepth} blocks, ${NEW_TOWER_DEFAULTS.textHeads} heads, context ${NEW_TOWER_DEFAULTS.context}, ${NEW_TOWER_DEFAULTS.headBlocks} head blocks).
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
      steps: flagNumber(flags, 'steps', true, true) ?? LIT_DEFAULTS.steps,
      batch: flagNumber(flags, 'batch', true, true) ?? LIT_DEFAULTS.batch,
      lr: flagNumber(flags, 'lr', false, true) ?? LIT_DEFAULTS.lr,
      cropPatches: flagNumber(flags, 'crop-patches', true, true) ?? LIT_DEFAULTS.cropPatches,
      seed: flagNumber(flags, 'seed', true) ?? LIT_DEFAULTS.seed,
    };
    const project = await openProjectFlag(flags);
    const jobs = new JobRegistry();
    const models = new ModelManager({ projectDir: () => project.dir, jobs });
    const vocab = flagValue(flags, 'vocab');
    const arch = {
      textDim: flagNumber(flags, 'text-dim', true, true),
      textDepth: flagNumber(flags, 'text-depth', true, true),
      textHeads: flagNumber(flags, 'text-heads', true, true),
      context: flagNumber(flags, 'context', true, true),
      headBlocks: flagNumber(flags, 'head-blocks', true),
    };
    const request: AlignRequest = {
      modelId,
      pairs: resolve(pairsFile),
      ...o,
      ...(vocab ? { vocab: resolve(vocab) } : {}),
      ...(Object.fromEntries(Object.entries(arch).filter(([, v]) => v !== undefined)) as Partial<typeof arch>),
    };
    const prepared = await prepareAlign(project, models, request, FLAG_OF);
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
      const summary = await runAlign(project, prepared, jobs, 'align');
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    } finally {
      off();
      io.signal.removeEventListener('abort', onAbort);
    }
  },
};

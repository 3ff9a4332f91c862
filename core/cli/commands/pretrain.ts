// `dinoscope pretrain --project P [--preset quick|standard] [--from WEIGHTS] [--steps N | --minutes M] [--resume]
// [--checkpoint-minutes K] [--run NAME] [--threads T] [--overrides JSON] [--tiny]`: DINO + iBOT + KoLeo
// pretraining on the project's images (core/train/run.ts). Progress lines on stderr, a JSON summary on stdout.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { TINY_OVERRIDES, type PresetName } from '../../train/config.js';
import { runPretrain } from '../../train/run.js';
import { flagNumber, flagValue, parseArgs, type Command } from '../command.js';

const KNOWN = new Set(['project', 'preset', 'from', 'steps', 'minutes', 'resume', 'checkpoint-minutes', 'run', 'threads', 'overrides', 'tiny']);


const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge of override objects (b wins); trainConfig checks the result strictly. */
export function mergeOverrides(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlain(v) && isPlain(out[k]) ? mergeOverrides(out[k], v) : v;
  return out;
}

export async function readOverrides(arg: string): Promise<Record<string, unknown>> {
  let text = arg;
  const where = arg.startsWith('@') ? arg.slice(1) : '--overrides';
  if (arg.startsWith('@')) text = await readFile(arg.slice(1), 'utf8').catch(() => {
    throw new DinoscopeError('BAD_INPUT', `${where}: cannot read the overrides file.`);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DinoscopeError('BAD_INPUT', `${where}: not valid JSON (${(e as Error).message}).`);
  }
  if (!isPlain(parsed)) throw new DinoscopeError('BAD_INPUT', `${where}: must be a JSON object of config overrides.`);
  return parsed;
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'self-supervised DINO + iBOT + KoLeo pretraining on a project\'s images',
  usage:
    'usage: dinoscope pretrain --project P [--preset quick|standard] [--from MODEL_DIR_OR_SAFETENSORS]\n' +
    '                          [--steps N | --minutes M] [--resume] [--checkpoint-minutes K] [--run NAME]\n' +
    '                          [--threads T] [--overrides JSON|@file.json] [--tiny]\n\n' +
    'Writes the run into P/runs/<NAME>/ (train-config.json, checkpoints/latest/, progress.jsonl) and lists it\n' +
    'in project.json. Presets: quick (CPU, ViT-Tiny/16, 4 registers, 112 px) and standard (GPU, ViT-S/16, 224 px).\n' +
    '--from starts from imported weights (continued pretraining) instead of from scratch.\n' +
    '--minutes M: the schedules count steps, so the first 3 steps are timed and the step count is fixed from\n' +
    '  the measured speed (the summary states the seconds per step it used).\n' +
    'Checkpoints every K minutes (default 10), at the end, and on Ctrl-C/SIGTERM (the current step finishes,\n' +
    '  then a checkpoint; exit 130). --resume continues the latest run (or --run NAME) from its last checkpoint.\n' +
    'A NaN loss stops the run with an error naming the step; the last checkpoint is kept, not overwritten.\n' +
    '--overrides: strict config overrides as JSON (keys of core/train/config.ts), e.g. \'{"batchSize":16}\'.\n' +
    '--tiny: a minute smoke-test model (dim 32, depth 1, 32 px crops) for tests and quick checks.\n' +
    'Progress lines on stderr; a JSON summary on stdout.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, ['resume', 'tiny']);
    for (const k of flags.keys()) if (!KNOWN.has(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope pretrain --help).`);
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const projectArg = flagValue(flags, 'project');
    if (!projectArg) throw new DinoscopeError('BAD_INPUT', 'needs --project P (a project folder).');
    const projectDir = resolve(projectArg);
    if (!(await Project.exists(projectDir))) throw new DinoscopeError('BAD_INPUT', `${projectDir} is not a Dinoscope project (no project.json).`);
    const preset = flagValue(flags, 'preset');
    if (preset !== undefined && preset !== 'quick' && preset !== 'standard') throw new DinoscopeError('BAD_INPUT', `--preset: unknown preset "${preset}" (quick, standard).`);
    const steps = flagNumber(flags, 'steps', true, true);
    const minutes = flagNumber(flags, 'minutes', false, true);
    if (steps !== undefined && minutes !== undefined) throw new DinoscopeError('BAD_INPUT', 'give either --steps or --minutes, not both.');
    const threads = flagNumber(flags, 'threads', true, true);
    const from = flagValue(flags, 'from');
    const resume = flags.get('resume') === true;
    let overrides: Record<string, unknown> | undefined;
    if (flags.get('tiny') === true) overrides = TINY_OVERRIDES;
    const extra = flagValue(flags, 'overrides');
    if (extra !== undefined) overrides = mergeOverrides(overrides ?? {}, await readOverrides(extra));
    if (from !== undefined) overrides = mergeOverrides(overrides ?? {}, { model: { from: resolve(from) } });
    if (threads !== undefined && !resume) overrides = mergeOverrides(overrides ?? {}, { runtime: { threads } });
    const project = await Project.open(projectDir);
    const summary = await runPretrain(project, {
      resume,
      name: flagValue(flags, 'run'),
      preset: preset as PresetName | undefined,
      overrides,
      steps,
      minutes,
      checkpointMinutes: flagNumber(flags, 'checkpoint-minutes', false, true),
      signal: io.signal,
      log: (line) => io.stderr(`${line}\n`),
    });
    io.stdout(JSON.stringify(summary, null, 2) + '\n');
    return summary.status === 'stopped' ? 130 : 0;
  },
};

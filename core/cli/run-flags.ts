// The flags `dinoscope pretrain` and `dinoscope adapt` share, read once: unknown options and stray
// arguments refused, --project (must be a project), --steps | --minutes, --threads, --device, --precision,
// --run, --resume [NAME],
// --checkpoint-minutes and --overrides (JSON or @file, strict keys checked later by trainConfig); and the
// shared ending: the JSON summary on stdout, exit 130 when the run was stopped.
import { resolve } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { readRegularText } from '../io/regular-file.js';
import { Project } from '../project/project.js';
import { registerRunModel } from '../train/host/register.js';
import type { RunOptions, RunSummary } from '../train/run.js';
import { flagNumber, flagValue, parseArgs, type CliIo, type ParsedArgs } from './command.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../hardware/device.js';
import { PRECISION_REQUESTS, type PrecisionRequest } from '../train/precision.js';

/** The flags readRunFlags reads, which every run command takes (each adds its own). */
export const RUN_FLAGS = [
  'project',
  'steps',
  'minutes',
  'resume',
  'checkpoint-minutes',
  'run',
  'threads',
  'device',
  'data',
  'precision',
  'overrides',
] as const;

export interface RunFlags {
  flags: ParsedArgs['flags'];
  projectDir: string;
  resume: boolean;
  /** The run: --run NAME, or --resume NAME. */
  run: string | undefined;
  steps: number | undefined;
  minutes: number | undefined;
  threads: number | undefined;
  /** --device: where the run's graphs run (core/hardware resolveDevice), undefined without the flag. */
  device: DeviceRequest | undefined;
  /** --precision: auto, fp32 or mixed (core/train/precision.ts), undefined without the flag. */
  precision: PrecisionRequest | undefined;
  /** --overrides, parsed (undefined without the flag). */
  overrides: Record<string, unknown> | undefined;
  /** --data: the curated tile list to sample from (`curated` or `curated:NAME`), null for `uniform`, undefined without the flag. */
  tiles: string | null | undefined;
  /** The project model the run's teacher was registered as at its last checkpoint, once it has one. */
  model: string | null;
}

/** Parses `argv` of `command`; `known` lists every flag it takes, `booleans` those without a value
 * (--resume takes an optional run name). */
export async function readRunFlags(
  command: string,
  argv: string[],
  known: ReadonlySet<string>,
  booleans: readonly string[],
): Promise<RunFlags> {
  const { positional, flags } = parseArgs(
    argv,
    booleans.filter((b) => b !== 'resume'),
  );
  for (const k of flags.keys())
    if (!known.has(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope ${command} --help).`);
  if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
  const projectArg = flagValue(flags, 'project');
  if (!projectArg) throw new DinoscopeError('BAD_INPUT', 'needs --project P (a project folder).');
  const projectDir = resolve(projectArg);
  if (!(await Project.exists(projectDir)))
    throw new DinoscopeError('BAD_INPUT', `${projectDir} is not a Dinoscope project (no project.json).`);
  const steps = flagNumber(flags, 'steps', true, true);
  const minutes = flagNumber(flags, 'minutes', false, true);
  if (steps !== undefined && minutes !== undefined) throw new DinoscopeError('BAD_INPUT', 'give either --steps or --minutes, not both.');
  const threads = flagNumber(flags, 'threads', true, true);
  const deviceFlag = flagValue(flags, 'device');
  if (deviceFlag !== undefined && !(DEVICE_REQUESTS as readonly string[]).includes(deviceFlag))
    throw new DinoscopeError('BAD_INPUT', `--device must be ${DEVICE_REQUESTS.join(', ')}, got "${deviceFlag}".`);
  const device = deviceFlag as DeviceRequest | undefined;
  if (device !== undefined && flags.has('resume'))
    throw new DinoscopeError('BAD_INPUT', '--device applies when a run starts: a resumed run keeps the device of its saved config.');
  const data = flagValue(flags, 'data');
  let tiles: string | null | undefined;
  if (data !== undefined) {
    const m = /^(uniform|curated)(?::(.+))?$/.exec(data);
    if (!m || (m[1] === 'uniform' && m[2] !== undefined))
      throw new DinoscopeError(
        'BAD_INPUT',
        `--data must be uniform, curated or curated:NAME (a list from dinoscope curate), got "${data}".`,
      );
    tiles = m[1] === 'uniform' ? null : (m[2] ?? 'curated');
    if (flags.has('resume'))
      throw new DinoscopeError('BAD_INPUT', '--data applies when a run starts: a resumed run keeps the data of its saved config.');
  }
  const precisionFlag = flagValue(flags, 'precision');
  if (precisionFlag !== undefined && !(PRECISION_REQUESTS as readonly string[]).includes(precisionFlag))
    throw new DinoscopeError('BAD_INPUT', `--precision must be ${PRECISION_REQUESTS.join(', ')}, got "${precisionFlag}".`);
  const precision = precisionFlag as PrecisionRequest | undefined;
  if (precision !== undefined && flags.has('resume'))
    throw new DinoscopeError('BAD_INPUT', '--precision applies when a run starts: a resumed run keeps the precision of its saved config.');
  const extra = flagValue(flags, 'overrides');
  const overrides = extra !== undefined ? await readOverrides(extra) : undefined;
  const resumed = flags.get('resume');
  let run = flagValue(flags, 'run');
  if (typeof resumed === 'string') {
    if (run !== undefined && run !== resumed)
      throw new DinoscopeError('BAD_INPUT', `--resume ${resumed} and --run ${run} name different runs; give one.`);
    run = resumed;
  }
  return {
    flags,
    projectDir,
    resume: resumed !== undefined,
    run,
    steps,
    minutes,
    threads,
    device,
    precision,
    overrides,
    tiles,
    model: null,
  };
}

/**
 * The run-loop options every run command passes the same way. At every checkpoint the run's teacher
 * becomes the project model <run> (as runs started in the app do), so `extract --model <run>` uses it
 * without an import.
 */
export function loopOptions(
  r: RunFlags,
  io: CliIo,
): Pick<RunOptions, 'resume' | 'name' | 'steps' | 'minutes' | 'checkpointMinutes' | 'signal' | 'log' | 'onCheckpoint'> {
  return {
    onCheckpoint: async (trainer, step, run) => {
      if (step === 0) return;
      const first = r.model === null;
      r.model = await registerRunModel(r.projectDir, run, trainer.vit, await trainer.teacherBackbone(), step);
      if (first)
        io.stderr(
          `${trainer.config.stage}: the run's teacher is the project model "${r.model}" (updated at every checkpoint): dinoscope extract --model ${r.model}\n`,
        );
    },
    resume: r.resume,
    name: r.run,
    steps: r.steps,
    minutes: r.minutes,
    checkpointMinutes: flagNumber(r.flags, 'checkpoint-minutes', false, true),
    signal: io.signal,
    log: (line) => io.stderr(`${line}\n`),
  };
}

/** `--threads`, `--device`, `--precision` and `--data` as overrides (a resumed run keeps its saved config). */
export function withRuntime(overrides: Record<string, unknown> | undefined, r: RunFlags): Record<string, unknown> | undefined {
  if (r.resume) return overrides;
  const runtime = {
    ...(r.threads !== undefined ? { threads: r.threads } : {}),
    ...(r.device !== undefined ? { device: r.device } : {}),
    ...(r.precision !== undefined ? { precision: r.precision } : {}),
  };
  let out = Object.keys(runtime).length ? mergeOverrides(overrides ?? {}, { runtime }) : overrides;
  if (r.tiles !== undefined) out = mergeOverrides(out ?? {}, { data: { tiles: r.tiles } });
  return out;
}

/** Prints the summary (and the model the run registered) as JSON; exit 130 when the run stopped early (Ctrl-C / SIGTERM). */
export function reportRun(summary: RunSummary, io: CliIo, r: RunFlags): number {
  io.stdout(JSON.stringify({ ...summary, model: r.model }, null, 2) + '\n');
  return summary.status === 'stopped' ? 130 : 0;
}

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
  if (arg.startsWith('@')) {
    text = await readRegularText(arg.slice(1)).catch((e: unknown) => {
      throw new DinoscopeError('BAD_INPUT', e instanceof DinoscopeError ? e.message : `${where}: cannot read the overrides file.`);
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DinoscopeError('BAD_INPUT', `${where}: not valid JSON (${(e as Error).message}).`);
  }
  if (!isPlain(parsed)) throw new DinoscopeError('BAD_INPUT', `${where}: must be a JSON object of config overrides.`);
  return parsed;
}

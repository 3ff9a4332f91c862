// `dinoscope demo [--minutes M] [--dir D]`: the newcomer's first five minutes (core/demo): sample slides,
// a project, a Quick-preset pretraining run of M minutes in this process, features with its teacher.
// Progress on stderr; a JSON summary (project, images, run, model, patches, seconds) on stdout.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { defaultFormats } from '../../app/formats.js';
import type { DemoOptions } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { demoPlan } from '../../demo/options.js';
import { runDemo } from '../../demo/pipeline.js';
import { trainInProcess } from '../../demo/train.js';
import { JobRegistry } from '../../jobs/registry.js';
import { flagNumber, flagValue, parseArgs, type Command } from '../command.js';

/** --tiny and --steps are for tests (small slides, the minute model, a fixed step count); not in the usage. */
const KNOWN = new Set(['minutes', 'dir', 'tiny', 'steps']);
/** Seconds between overall progress lines within one phase. */
const PROGRESS_EVERY_S = 2;

export const demoCommand: Command = {
  name: 'demo',
  flags: [...KNOWN],
  summary: 'make a sample project: generated slides, a few minutes of pretraining, features ready to search',
  usage:
    'usage: dinoscope demo [--minutes M] [--dir D]\n\n' +
    'Generates four 4096 px tissue-like slides (pyramidal TIFF) into D/slides, makes D a project holding them,\n' +
    'pretrains the Quick preset for M minutes (default 3) and extracts features with the trained model at\n' +
    '2 µm/px. When your models folder holds a foundation model (dinoscope models import | download), the run\n' +
    'continues its pretraining instead of starting from random weights; the log and the summary\'s "route" say\n' +
    'which and why. D defaults to ~/Dinoscope/demo; it must be empty, new, or a previous demo. Interrupted (Ctrl-C)?\n' +
    'Run it again with the same D: it resumes (training from its checkpoint). Then: dinoscope serve --project D.\n' +
    'Progress on stderr; a JSON summary on stdout.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, ['tiny']);
    for (const k of flags.keys())
      if (!KNOWN.has(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope demo --help).`);
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const minutes = flagNumber(flags, 'minutes', false, true);
    const steps = flagNumber(flags, 'steps', true, true);
    if (steps !== undefined && minutes !== undefined) throw new DinoscopeError('BAD_INPUT', 'give either --minutes or --steps, not both.');
    const dir = flagValue(flags, 'dir');
    const options: DemoOptions = { tiny: flags.get('tiny') === true };
    if (minutes !== undefined) options.minutes = minutes;
    if (dir !== undefined) options.dir = resolve(dir);
    const plan = demoPlan(options, homedir(), steps);

    // Lines come from the pipeline's own progress calls (the job's events are throttled): one when the
    // phase changes, then at most one every PROGRESS_EVERY_S seconds.
    let phase = '';
    let printed = 0;
    const print = (done: number, total: number, message: string): void => {
      const now = performance.now() / 1000;
      const head = message.split(/[ :]/)[0];
      if (head === phase && now - printed < PROGRESS_EVERY_S && done < total) return;
      phase = head;
      printed = now;
      io.stderr(`demo: ${Math.round((100 * done) / Math.max(1, total))}% ${message}\n`);
    };
    const summary = await new JobRegistry().run('demo', 'Demo', 1000, (job) => {
      io.signal.addEventListener('abort', () => job.cancel());
      const progress = (done: number, total: number, message: string): void => {
        job.progress(done, total, message);
        print(done, total, message);
      };
      return runDemo(plan, {
        signal: job.signal,
        progress,
        formats: defaultFormats,
        train: trainInProcess,
        log: (line) => io.stderr(`${line}\n`),
      });
    });
    io.stderr(`demo: ready. Open it with: dinoscope serve --project ${summary.project}\n`);
    io.stdout(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};

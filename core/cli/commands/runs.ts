// `dinoscope runs --project P`: the project's training runs (pretraining, adaptation, distillation) as their
// records say: stage, preset, status, steps, which tiles each trained on (data: uniform or curated:NAME), the
// teacher and students of a distillation run. One line a run on stderr, JSON on stdout.
import { DinoscopeError } from '../../common/errors.js';
import type { RunRecord } from '../../train/run.js';
import { recordedRunData } from '../../train/run-data.js';
import { openProjectFlag } from '../analysis.js';
import { checkFlags, parseArgs, type Command } from '../command.js';

const isRecord = (v: unknown): v is RunRecord => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string';

/** "all tissue" or "curated set NAME": the run's data in words. */
function tilesText(data: string): string {
  return data.startsWith('curated:') ? `curated set "${data.slice('curated:'.length)}"` : 'all tissue, uniformly';
}

export const runsCommand: Command = {
  name: 'runs',
  summary: "list a project's training runs and the tiles each trained on (JSON out)",
  usage:
    'usage: dinoscope runs --project P\n\n' +
    'Prints JSON [{name, stage, preset, status, step, totalSteps, checkpointStep, data, createdAt, updatedAt, …}],\n' +
    'oldest first; data says which tiles a run trains on: "uniform" (every image\'s tissue) or "curated:NAME"\n' +
    '(the curated set NAME, dinoscope curate). A distillation run also has distil {teacher, students}.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project'], 'runs');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}" (runs takes --project P only).`);
    const project = await openProjectFlag(flags);
    const runs = project
      .runs()
      .filter(isRecord)
      .map((r) => ({ ...r, stage: r.stage ?? 'pretrain', data: recordedRunData(r) }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const r of runs)
      io.stderr(`${r.name}: ${r.stage} ${r.preset}, ${r.status} at step ${r.step}/${r.totalSteps}, tiles: ${tilesText(r.data)}\n`);
    if (runs.length === 0) io.stderr('no training runs yet (dinoscope pretrain, adapt or distil).\n');
    io.stdout(JSON.stringify(runs, null, 2) + '\n');
    return 0;
  },
};

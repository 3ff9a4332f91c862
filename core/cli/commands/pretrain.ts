// `dinoscope pretrain --project P [--preset quick|standard|capi] [--from WEIGHTS | --from-scratch] [--steps N | --minutes M]
// [--resume [NAME]] [--checkpoint-minutes K] [--run NAME] [--threads T] [--overrides JSON] [--tiny] [--channels embed|inflate]`: DINO + iBOT +
// KoLeo pretraining (or CAPI with --preset capi) on the project's images (core/train/run.ts). A new run continues the pretraining of a
// foundation model of the project or the user's models folder when there is one (core/train/route.ts), else
// starts from scratch; the log's first line and the summary's `route` say which and why. Progress lines on
// stderr, a JSON summary on stdout.
import { DinoscopeError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { TINY_CAPI_OVERRIDES, TINY_OVERRIDES, type PresetName } from '../../train/config.js';
import { TRAIN_CHANNEL_EXPLAINED, TRAIN_CHANNEL_ROUTES } from '../../common/channel-routes.js';
import { inspectWeights } from '../../model/weights/import.js';
import { readTrainChannelRoute, requirePanel, trainChannelRoute } from '../../train/channel-route.js';
import { projectPanel } from '../../train/project-images.js';
import { pretrainRoute, routeOverrides } from '../../train/route.js';
import { runPretrain } from '../../train/run.js';
import { flagValue, type Command } from '../command.js';
import { resolveModelWeights } from '../model-path.js';
import { loopOptions, mergeOverrides, readRunFlags, reportRun, RUN_FLAGS, withRuntime } from '../run-flags.js';

const KNOWN = new Set<string>([...RUN_FLAGS, 'preset', 'from', 'from-scratch', 'tiny', 'channels']);

export const pretrainCommand: Command = {
  name: 'pretrain',
  flags: [...KNOWN],
  fields: { name: 'run' },
  summary: "self-supervised DINO + iBOT + KoLeo (or CAPI) pretraining on a project's images",
  usage:
    'usage: dinoscope pretrain --project P [--preset quick|standard|capi] [--from MODEL | --from-scratch]\n' +
    '                          [--steps N | --minutes M] [--resume [NAME]] [--checkpoint-minutes K] [--run NAME]\n' +
    '                          [--threads T] [--device auto|cpu|webgpu|cuda] [--precision auto|fp32|mixed]\n' +
    '                          [--data uniform|curated[:NAME]] [--channels embed|inflate]\n' +
    '                          [--overrides JSON|@file.json] [--tiny]\n\n' +
    'Writes the run into P/runs/<NAME>/ (train-config.json, checkpoints/latest/, progress.jsonl) and lists it\n' +
    "in project.json; at every checkpoint the run's teacher becomes the project model NAME (extract --model NAME).\n" +
    'Presets: quick (CPU, ViT-Tiny/16 with 6 blocks, 4 registers, 112 px) and standard (GPU, ViT-S/16, 224 px):\n' +
    '  DINO + iBOT + KoLeo; capi (CPU, ViT-Tiny/16 trained by CAPI: predicting online clusters of masked patches\n' +
    "  from the visible ones; its log prints the step's memory and work first, and its loss terms are capi and\n" +
    '  clustering).\n' +
    'Continued pretraining first: when the project or your models folder holds a foundation model (imported or\n' +
    "  downloaded: dinoscope models import | download; not a run's own model), a new run starts from it (the\n" +
    "  project's before yours, the newest first) with the continued-pretraining settings (lower lr, shorter\n" +
    '  warm-up, the teacher = the same weights, fresh heads; core/train/config.ts CONTINUED_OVERRIDES); else from\n' +
    '  scratch. The log\'s first line and the summary\'s "route" say which and why.\n' +
    '--from MODEL starts from these weights: a model id (project or user models folder), a model folder (or a\n' +
    "  run's checkpoints/latest) or a .safetensors file. --from-scratch starts from random weights anyway.\n" +
    '--channels: on a project of one multi-channel (fluorescence) panel, how the model gets its C channels:\n' +
    TRAIN_CHANNEL_ROUTES.map((c) => `  ${c}: ${TRAIN_CHANNEL_EXPLAINED[c]}\n`).join('') +
    "  Default: inflate when the run starts from an RGB model, else embed (the log and the summary's route say which).\n" +
    '--minutes M: train for M minutes from the first step on (start-up comes on top). The schedules count\n' +
    '  steps, so the step count is estimated from the first steps and re-estimated as the speed changes,\n' +
    '  the schedules re-timed without a jump (the summary states the last seconds per step and the re-plans).\n' +
    'Checkpoints every K minutes (default 10), at the end, and on Ctrl-C/SIGTERM (the current step finishes,\n' +
    '  then a checkpoint; exit 130). --resume continues the latest run (or --resume NAME) from its last checkpoint.\n' +
    '--resume NAME --steps N | --minutes M extends a run, finished or not, by N more steps or M more minutes:\n' +
    '  same step counter, optimizer and teacher; the schedules are re-planned over the new total from the\n' +
    "  checkpoint's step on, joined to where the run stood by a short ramp (no restart, no second warm-up).\n" +
    'A NaN loss stops the run with an error naming the step; the last checkpoint is kept, not overwritten.\n' +
    "--device: where the run trains: auto (the hardware probe's choice), cpu, webgpu or cuda (the preset's by default).\n" +
    "--data: where training tiles come from: uniform (points on every image's tissue, the default) or a curated\n" +
    '  set made by dinoscope curate (curated = the list named "curated", curated:NAME another).\n' +
    '--precision: mixed (float16 products, float32 weights, dynamic loss scaling; a GPU that runs float16), fp32,\n' +
    '  or auto (default: mixed on such a GPU, fp32 on the CPU). A step whose gradients overflow is skipped (logged).\n' +
    '--overrides: strict config overrides as JSON (keys of core/train/config.ts), e.g. \'{"batchSize":16}\'.\n' +
    '--tiny: a minute smoke-test model (dim 32, depth 1, 32 px crops) for tests and quick checks, from scratch\n' +
    '  unless --from is given.\n' +
    'Progress lines on stderr; a JSON summary on stdout.',
  async run(argv, io) {
    const r = await readRunFlags('pretrain', argv, KNOWN, ['resume', 'tiny', 'from-scratch']);
    const preset = flagValue(r.flags, 'preset');
    if (preset !== undefined && preset !== 'quick' && preset !== 'standard' && preset !== 'capi')
      throw new DinoscopeError('BAD_INPUT', `--preset: unknown preset "${preset}" (quick, standard, capi).`);
    const from = flagValue(r.flags, 'from');
    const fromScratch = r.flags.get('from-scratch') === true;
    const tiny = r.flags.get('tiny') === true;
    let overrides = tiny ? (preset === 'capi' ? TINY_CAPI_OVERRIDES : TINY_OVERRIDES) : undefined;
    if (r.overrides !== undefined) overrides = mergeOverrides(overrides ?? {}, r.overrides);
    const channels = readTrainChannelRoute(r.flags.get('channels'));
    const project = await Project.open(r.projectDir);
    let route;
    if (r.resume) {
      if (from !== undefined || fromScratch || channels !== undefined)
        throw new DinoscopeError(
          'BAD_INPUT',
          `--${fromScratch ? 'from-scratch' : from !== undefined ? 'from' : 'channels'} applies when a run starts: a resumed run keeps its weights.`,
        );
    } else {
      const panel = projectPanel(project);
      if (channels !== undefined) requirePanel(panel);
      // model.from in --overrides is an explicit choice too: a path, or null for random weights.
      const given = (overrides?.model as { from?: unknown } | undefined)?.from;
      // --channels embed without a model named: a new embedding, so random weights rather than the default model.
      const embedNew = channels === 'embed' && from === undefined && typeof given !== 'string';
      route = await pretrainRoute({
        projectDir: r.projectDir,
        from:
          from !== undefined
            ? { weights: await resolveModelWeights('--from', from, r.projectDir), name: from }
            : typeof given === 'string'
              ? { weights: given, name: given }
              : undefined,
        fromScratch,
        scratchBecause:
          given === null
            ? 'from random weights as asked (model.from null in --overrides)'
            : tiny
              ? 'the --tiny smoke-test model starts from random weights (--from MODEL starts it from a model)'
              : embedNew
                ? `a new ${panel!.channels}-channel patch embedding from random weights as asked (--channels embed)`
                : undefined,
      });
      if (panel) {
        const start = route.weights
          ? { name: route.model ?? route.weights, inChans: (await inspectWeights(route.weights)).config.inChans }
          : null;
        route.channels = trainChannelRoute(channels, panel, start);
      }
      overrides = await routeOverrides(route, (preset as PresetName | undefined) ?? 'quick', overrides ?? {});
    }
    const summary = await runPretrain(project, {
      ...loopOptions(r, io),
      preset: preset as PresetName | undefined,
      route,
      overrides: withRuntime(overrides, r),
    });
    return reportRun(summary, io, r);
  },
};

// `dinoscope adapt --project P --model M [--preset adapt-cpu|adapt-gpu] [--steps N | --minutes M] [--resume]
// [--checkpoint-minutes K] [--run NAME] [--threads T] [--overrides JSON] [--channels embed|inflate]`: high-resolution adaptation with Gram
// anchoring (core/train/adapt.ts) of model M — a model id in the project's or the user's models folder, or a
// path to a model folder or .safetensors file. Prints the memory each size triple needs before it starts;
// progress lines on stderr, a JSON summary on stdout (as `dinoscope pretrain`).
import { DinoscopeError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { runAdapt } from '../../train/adapt.js';
import { TRAIN_CHANNEL_EXPLAINED, TRAIN_CHANNEL_ROUTES } from '../../common/channel-routes.js';
import { inspectWeights } from '../../model/weights/import.js';
import { channelRouteLine, readTrainChannelRoute, requirePanel, trainChannelRoute } from '../../train/channel-route.js';
import { PRESET_INFO, type PresetName } from '../../train/config.js';
import { projectPanel } from '../../train/project-images.js';
import { flagValue, type Command } from '../command.js';
import { resolveModelWeights } from '../model-path.js';
import { loopOptions, readRunFlags, reportRun, RUN_FLAGS, withRuntime } from '../run-flags.js';

const KNOWN = new Set<string>([...RUN_FLAGS, 'model', 'preset', 'channels']);
const ADAPT = PRESET_INFO.filter((p) => p.stage === 'adapt').map((p) => p.name);

export const adaptCommand: Command = {
  name: 'adapt',
  flags: [...KNOWN],
  fields: { name: 'run' },
  summary: "high-resolution adaptation of a model with Gram anchoring (DINOv3) on a project's images",
  usage:
    'usage: dinoscope adapt --project P --model M [--preset adapt-cpu|adapt-gpu] [--steps N | --minutes M]\n' +
    '                       [--resume] [--checkpoint-minutes K] [--run NAME] [--threads T] [--device D] [--data uniform|curated[:NAME]]\n' +
    '                       [--precision auto|fp32|mixed] [--channels embed|inflate] [--overrides JSON|@file.json]\n\n' +
    'M: a model id (project or user models folder), a model folder or a .safetensors file. M is the starting\n' +
    "point and the frozen Gram teacher: the student's patch-token Gram matrices on its global crops are kept\n" +
    "close to M's on the same crops at a higher resolution, while each step draws a (global, local, gram) crop\n" +
    'size triple (adapt-cpu: 224–320 px globals; adapt-gpu: 384–512 px). Before it starts it prints the\n' +
    'estimated memory per size triple ("this needs ~N GB"). Run folder, checkpoints, --minutes, --resume and\n' +
    'Ctrl-C behave as in dinoscope pretrain; dense-feature health (locality, CLS-patch cosine) is logged.\n' +
    "D (--device): auto (the hardware probe's choice), cpu, webgpu or cuda; default the preset's.\n" +
    '--channels: on a project of one multi-channel (fluorescence) panel, how M takes its C channels:\n' +
    TRAIN_CHANNEL_ROUTES.map((c) => `  ${c}: ${TRAIN_CHANNEL_EXPLAINED[c]}\n`).join('') +
    '  Default: inflate for an RGB model M, embed for a model of the panel; a model that cannot take the one asked is refused.\n' +
    "--data: training tiles from every image's tissue (uniform, the default) or a curated set (as in pretrain).\n" +
    '--precision: mixed (float16 products on a GPU that runs float16), fp32, or auto (default: mixed there, else fp32).\n' +
    'Progress lines on stderr; a JSON summary on stdout.',
  async run(argv, io) {
    const r = await readRunFlags('adapt', argv, KNOWN, ['resume']);
    const modelArg = flagValue(r.flags, 'model');
    if (!modelArg && !r.resume) throw new DinoscopeError('BAD_INPUT', 'needs --model M (a model id, folder or .safetensors file).');
    const preset = flagValue(r.flags, 'preset');
    if (preset !== undefined && !(ADAPT as string[]).includes(preset))
      throw new DinoscopeError('BAD_INPUT', `--preset: unknown adapt preset "${preset}" (${ADAPT.join(', ')}).`);
    const channels = readTrainChannelRoute(r.flags.get('channels'));
    if (channels !== undefined && r.resume)
      throw new DinoscopeError('BAD_INPUT', '--channels applies when a run starts: a resumed run keeps its weights.');
    const model = modelArg && !r.resume ? await resolveModelWeights('--model', modelArg, r.projectDir) : undefined;
    const project = await Project.open(r.projectDir);
    const panel = model ? projectPanel(project) : null;
    if (channels !== undefined) requirePanel(panel);
    // On a panel, the route M takes (inflate an RGB model, or its own C-channel embedding), said on stderr.
    if (model && panel) {
      const route = trainChannelRoute(channels, panel, { name: modelArg!, inChans: (await inspectWeights(model)).config.inChans });
      io.stderr(`adapt: ${channelRouteLine(route, panel)}\n`);
    }
    const summary = await runAdapt(project, {
      ...loopOptions(r, io),
      model,
      preset: preset as PresetName | undefined,
      overrides: withRuntime(r.overrides, r),
    });
    return reportRun(summary, io, r);
  },
};

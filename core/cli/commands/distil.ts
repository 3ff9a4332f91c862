// `dinoscope distil --project P --teacher MODEL --student small[,tiny] [--steps N | --minutes M] [--resume [NAME]]
// [--run NAME] [--preset quick|standard] [--checkpoint-minutes K] [--threads T] [--device D] [--precision P]
// [--data …] [--overrides JSON]`: DINOv3 distillation (core/train/distill) of a model the project has into one or
// more smaller students trained on the same teacher forward. The memory and work estimate first, then progress
// lines on stderr; a JSON summary on stdout; each student's EMA becomes the project model <run>-<size>.
import { DinoscopeError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { type PresetName } from '../../train/config.js';
import { parseStudents } from '../../train/distill/config.js';
import { runDistil, studentModelName } from '../../train/distill/run.js';
import { registerRunModel } from '../../train/host/register.js';
import { flagValue, type Command } from '../command.js';
import { resolveModelWeights } from '../model-path.js';
import { loopOptions, readRunFlags, RUN_FLAGS, withRuntime } from '../run-flags.js';

const KNOWN = new Set<string>([...RUN_FLAGS, 'preset', 'teacher', 'student']);

export const distilCommand: Command = {
  name: 'distil',
  flags: [...KNOWN],
  fields: { name: 'run' },
  summary: 'distil a model of the project into smaller, faster students (DINOv3 distillation)',
  usage:
    'usage: dinoscope distil --project P --teacher MODEL --student SIZE[,SIZE…] [--steps N | --minutes M]\n' +
    '                        [--resume [NAME]] [--run NAME] [--preset quick|standard] [--checkpoint-minutes K]\n' +
    '                        [--threads T] [--device auto|cpu|webgpu|cuda] [--precision auto|fp32|mixed]\n' +
    '                        [--data uniform|curated[:NAME]] [--overrides JSON|@file.json]\n\n' +
    "Trains students of the sizes named (tiny, small, base; registers kept, the teacher's patch size) to\n" +
    "reproduce the frozen teacher's DINO and iBOT head outputs (Sinkhorn-Knopp targets at temperature 0.07),\n" +
    "with KoLeo, on whole (unmasked) crops of the project's images. The teacher runs once a step for all\n" +
    "students. Each student's EMA is saved and becomes the project model <run>-<size> at every checkpoint.\n" +
    "--teacher MODEL: a model id (project or user models folder), a model folder, a run's checkpoints/latest or a\n" +
    "  .safetensors file. A run's model brings the heads it was trained with; imported weights have none and\n" +
    '  get fresh frozen heads (said in the log).\n' +
    '--resume [NAME] continues a run from its last checkpoint (--steps N adds N steps, --minutes M adds M\n' +
    'minutes: the step count follows the measured speed). The memory and work estimate is printed first;\n' +
    'progress lines on stderr; a JSON summary on stdout.',
  async run(argv, io) {
    const r = await readRunFlags('distil', argv, KNOWN, ['resume']);
    const preset = flagValue(r.flags, 'preset');
    if (preset !== undefined && preset !== 'quick' && preset !== 'standard')
      throw new DinoscopeError('BAD_INPUT', `--preset: unknown preset "${preset}" (quick, standard).`);
    const teacherArg = flagValue(r.flags, 'teacher');
    const studentArg = flagValue(r.flags, 'student');
    let teacher: string | undefined;
    let students;
    if (r.resume) {
      if (teacherArg !== undefined || studentArg !== undefined)
        throw new DinoscopeError('BAD_INPUT', '--teacher and --student apply when a run starts: a resumed run keeps its own.');
    } else {
      if (teacherArg === undefined)
        throw new DinoscopeError('BAD_INPUT', 'needs --teacher MODEL (the model to distil: see dinoscope models list).');
      if (studentArg === undefined) throw new DinoscopeError('BAD_INPUT', 'needs --student SIZE[,SIZE…] (tiny, small, base).');
      students = parseStudents(studentArg);
      teacher = await resolveModelWeights('--teacher', teacherArg, r.projectDir);
    }
    const project = await Project.open(r.projectDir);
    const models: Record<string, string> = {};
    const base = loopOptions(r, io);
    const summary = await runDistil(project, {
      ...base,
      onCheckpoint: async (trainer, step, run) => {
        if (step === 0) return;
        for (const s of trainer.studentList) {
          const first = !(s.name in models);
          models[s.name] = await registerRunModel(
            r.projectDir,
            studentModelName(run, s.name),
            s.vit,
            await trainer.studentBackbone(s.name),
            step,
          );
          if (first) io.stderr(`distil: student ${s.name} is the project model "${models[s.name]}" (updated at every checkpoint)\n`);
        }
      },
      preset: preset as PresetName | undefined,
      teacher,
      teacherName: teacherArg,
      students,
      overrides: withRuntime(r.overrides, r),
    });
    io.stdout(JSON.stringify({ ...summary, models }, null, 2) + '\n');
    return summary.status === 'stopped' ? 130 : 0;
  },
};

// A distillation run in a project, checkpointed and resumable through the pretraining run loop (core/train/
// run.ts runLoop: checkpoints every K minutes, on stop and at the end, progress.jsonl, minutes budgets, NaN
// stop, the run record in project.json). <project>/runs/<name>/checkpoints/latest/ is a distillation checkpoint
// (checkpoint.ts: every student at one step); the record carries `distil` (teacher, students).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError, FieldError } from '../../common/errors.js';
import { Project } from '../../project/project.js';
import { type PresetName, type TrainConfig } from '../config.js';
import { projectRunData } from '../data.js';
import {
  type RunOptions,
  type RunRecord,
  type RunSummary,
  findCheckpoint,
  newRunRecord,
  pickRun,
  recentSecondsPerStep,
  runDir,
  runLoop,
} from '../run.js';
import { replanned } from '../schedule-plan.js';
import { checkBudget, stepsInMinutes } from '../time-budget.js';
import { DISTILL_FILE, readDistillCheckpoint } from './checkpoint.js';
import { type StudentSpec, distilConfig, fitCrops } from './config.js';
import { distillEstimate } from './estimate.js';
import { type DistillTeacher, loadDistillTeacher } from './teacher.js';
import { DistillTrainer, type StudentState, newStudentState } from './trainer.js';
import { inspectWeights } from '../../model/weights/import.js';

export interface DistilOptions extends Omit<RunOptions<DistillTrainer>, 'route'> {
  /** The teacher's weights file (a model folder's model.safetensors, a run checkpoint's) and its name for logs. */
  teacher?: string;
  teacherName?: string;
  students?: StudentSpec[];
}

export interface DistilRecordInfo {
  teacher: string;
  students: string[];
}

/** The model id each student of run `run` registers as. */
export const studentModelName = (run: string, student: string): string => `${run}-${student}`;

/** What a new distillation run is made of: `preset` + overrides + steps as a run takes them. */
export interface DistilSetupOptions {
  teacher: string;
  students: StudentSpec[];
  preset?: PresetName;
  overrides?: Record<string, unknown>;
  steps?: number;
}

/**
 * The config, the loaded teacher and the students' states of a new run (its memory and work estimate logged
 * first): crops the user did not give fitted to the teacher's patch size (a DINOv2 teacher has patch 14), ViT
 * keys the user set in model.vit (narrow test models) applied to every student. Shared by a run and by the
 * step timing before Start (host/measure.ts), so that both time the same thing.
 */
export async function distilSetup(
  project: Project,
  o: DistilSetupOptions,
  log: (line: string) => void,
  onPhase?: (what: string) => void,
): Promise<{ config: TrainConfig; teacher: DistillTeacher; states: StudentState[] }> {
  const preset: PresetName = o.preset ?? 'quick';
  const over: Record<string, unknown> = { ...(o.overrides ?? {}) };
  if (o.steps !== undefined) over.steps = o.steps;
  const patch = (await inspectWeights(o.teacher)).config.patchSize;
  const given = (over.crops ?? {}) as Record<string, unknown>;
  const fitted = fitCrops(distilConfig(preset, over), patch, given);
  if (Object.keys(fitted).length) over.crops = { ...given, ...fitted };
  const config = distilConfig(preset, over);
  onPhase?.('loading the teacher');
  const teacher = await loadDistillTeacher(o.teacher, config, project.dir);
  const userVit = ((o.overrides?.model as { vit?: object } | undefined)?.vit ?? {}) as StudentSpec['vit'];
  const states = o.students.map((s) => newStudentState(config, teacher, { ...s, vit: { ...userVit, ...s.vit } }));
  for (const line of distillEstimate(config, teacher.vit, states).lines) log(`distil: ${line}`);
  return { config, teacher, states };
}

/** The crop workers over the project's images and the trainer of a new run (step 0). */
export async function distilTrainer(
  project: Project,
  config: TrainConfig,
  teacher: DistillTeacher,
  states: StudentState[],
  log: (line: string) => void,
  onPhase?: (what: string) => void,
): Promise<DistillTrainer> {
  onPhase?.('loading the images');
  const { data } = await projectRunData(config, teacher.vit.patchSize, project, { step: 0 }, log);
  onPhase?.('building the training graphs');
  return DistillTrainer.create(config, teacher, states, data, 0, { log }).catch(async (e: unknown) => {
    await data.close();
    throw e;
  });
}

/** Runs (or resumes) a distillation run in `project` to its end or until `signal` aborts. */
export async function runDistil(project: Project, opts: DistilOptions): Promise<RunSummary & { students: string[] }> {
  const log = opts.log ?? ((): void => undefined);
  checkBudget(opts.steps, opts.minutes);
  if (!project.images().some((i) => i.status === 'ok'))
    throw new DinoscopeError('BAD_INPUT', `${project.file}: no readable (ok) images to train on.`);
  const now = new Date().toISOString();
  let trainer: DistillTrainer;
  let rec: RunRecord & { distil?: DistilRecordInfo };
  let folder: string;
  let startedFrom = 0;
  const stepsFrom: RunSummary['stepsFrom'] =
    opts.minutes !== undefined ? { kind: 'minutes', minutes: opts.minutes, secondsPerStep: NaN, timedSteps: 0 } : { kind: 'steps' };
  if (opts.resume) {
    if (opts.preset || opts.overrides || opts.teacher || opts.students)
      throw new FieldError('resume', 'continues a distillation run with its saved teacher, students and config: drop them.');
    const prev = await pickRun(project, opts.name);
    folder = join(project.dir, prev.dir);
    const ck = await findCheckpoint(folder, DISTILL_FILE);
    if (!ck) throw new DinoscopeError('BAD_INPUT', `${folder}: run "${prev.name}" has no distillation checkpoint to resume from.`);
    opts.onPhase?.('loading the checkpoint and the teacher');
    const c = await readDistillCheckpoint(ck);
    const teacher = await loadDistillTeacher(c.record.teacher.weights, c.first.config, project.dir);
    const { data } = await projectRunData(c.first.config, teacher.vit.patchSize, project, { step: c.record.step }, log);
    opts.onPhase?.('building the training graphs');
    trainer = await DistillTrainer.create(c.first.config, teacher, c.students, data, c.record.step, { log, health: c.first.health });
    startedFrom = trainer.completedSteps;
    const was = trainer.config.steps;
    if (opts.steps !== undefined || opts.minutes !== undefined) {
      // Extension, as a pretraining run's: the schedules re-planned over the new total from this step on
      // (schedule-plan.ts); a minutes budget starts from the speed of the run's last recorded steps and then
      // follows the measured speed (runLoop re-times it).
      const sps =
        opts.minutes !== undefined ? ((await recentSecondsPerStep(join(folder, 'progress.jsonl'), trainer.config.batchSize)) ?? 1) : 0;
      const to = startedFrom + (opts.steps ?? stepsInMinutes(opts.minutes!, sps));
      trainer.revise(replanned(trainer.config, startedFrom, to, 'extend'));
    }
    rec = {
      ...prev,
      status: 'running',
      step: startedFrom,
      checkpointStep: startedFrom,
      totalSteps: trainer.config.steps,
      precision: trainer.precision,
    };
    const more =
      opts.steps !== undefined
        ? `, extended by ${opts.steps} steps to ${trainer.config.steps}`
        : opts.minutes !== undefined
          ? `, extended by ${opts.minutes} min (about ${trainer.config.steps - startedFrom} steps)`
          : '';
    log(`distil: resuming run ${prev.name} from its checkpoint at step ${startedFrom}/${was}${more}`);
  } else {
    if (!opts.teacher) throw new FieldError('teacher', 'name the model to distil (a model id, a model folder or a .safetensors file).');
    if (!opts.students?.length) throw new FieldError('student', 'name at least one student size (tiny, small, base).');
    const name = opts.name ?? `distil-${now.replace(/[:.]/g, '-')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new FieldError('name', `"${name}": use letters, digits, '.', '_' and '-'.`);
    if (project.runs().some((r) => (r as { name?: unknown }).name === name))
      throw new FieldError('name', `a run named "${name}" exists: continue it with {resume} or choose another name.`, project.file);
    const { config, teacher, states } = await distilSetup(
      project,
      { teacher: opts.teacher, students: opts.students, preset: opts.preset, overrides: opts.overrides, steps: opts.steps },
      log,
      opts.onPhase,
    );
    folder = runDir(project, name);
    await mkdir(join(folder, 'checkpoints'), { recursive: true });
    trainer = await distilTrainer(project, config, teacher, states, log, opts.onPhase);
    rec = {
      ...newRunRecord(name, config, trainer.precision, now),
      distil: { teacher: opts.teacherName ?? opts.teacher, students: states.map((s) => s.name) },
    };
    log(
      `distil: run ${name}: ${states.map((s) => s.name).join(' + ')} from ${opts.teacherName ?? opts.teacher}, ${opts.minutes !== undefined ? `${opts.minutes} min budget` : `${config.steps} steps`}, into ${folder}`,
    );
  }
  try {
    const summary = await runLoop(project, trainer, folder, rec, startedFrom, stepsFrom, { ...opts, resume: opts.resume });
    return { ...summary, students: trainer.studentList.map((s) => s.name) };
  } finally {
    await trainer.close();
  }
}

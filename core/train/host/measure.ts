// Timing one training step of a config on this computer, for the estimate shown before Start ("about 12 min
// on this computer"). Runs in a training child process (worker.ts, message 'measure'), never in the app:
// it builds the trainer exactly as a run does (the images, the crop workers, the training graph and its
// onnxruntime sessions), runs one warm-up step (its first-run costs are part of every run's start-up) and
// times the next two, keeping the faster (a distillation run's step: the teacher forward and every student's
// step, built by the same functions as the run, distill/run.ts): the work of a step is fixed, so on a shared
// machine the other processes only ever add time (bench/train-estimate.bench.ts: one timed step read 18.3 s
// against the run's median 12.8 s; the faster of two, 11.1 s against 11.6 s). Nothing is written: the run
// folder and checkpoints are runPretrain's.
import { Project } from '../../project/project.js';
import { trainConfig } from '../config.js';
import { Trainer } from '../trainer.js';
import { CapiRun } from '../capi/run-trainer.js';
import { distilSetup, distilTrainer } from '../distill/run.js';
import type { ChildRunOptions } from './protocol.js';

export interface StepTiming {
  /** Seconds from the start of the child's work to a trainer ready for its first step. */
  startupSeconds: number;
  /** The first step (warm-up: sessions' first runs). */
  firstStepSeconds: number;
  /** A step after the first (the faster of two): what every further step costs. */
  secondsPerStep: number;
}

/** The trainer a run of these options builds (only its step and close are used here). */
async function stepper(
  project: Project,
  o: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'>,
  log?: (line: string) => void,
): Promise<{ step(): Promise<unknown>; close(): Promise<void> }> {
  const quiet = log ?? ((): void => undefined);
  if (o.distil) {
    const students = o.distil.students.map((size) => ({ size }));
    const { config, teacher, states } = await distilSetup(
      project,
      { teacher: o.distil.teacher, students, preset: o.preset, overrides: o.overrides },
      quiet,
    );
    return distilTrainer(project, config, teacher, states, quiet);
  }
  const config = trainConfig(o.preset, o.overrides ?? {});
  return config.objective === 'capi' ? CapiRun.forProject(config, project, { log }) : Trainer.forProject(config, project, { log });
}

export async function measureStep(
  projectDir: string,
  o: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'>,
  log?: (line: string) => void,
): Promise<StepTiming> {
  const t0 = performance.now();
  const project = await Project.open(projectDir);
  const trainer = await stepper(project, o, log);
  try {
    const t1 = performance.now();
    await trainer.step();
    const t2 = performance.now();
    await trainer.step();
    const t3 = performance.now();
    await trainer.step();
    const t4 = performance.now();
    return { startupSeconds: (t1 - t0) / 1000, firstStepSeconds: (t2 - t1) / 1000, secondsPerStep: Math.min(t3 - t2, t4 - t3) / 1000 };
  } finally {
    await trainer.close();
  }
}

// The demo's training step behind one function type, so the host decides where training runs: the CLI
// runs it in this process (trainInProcess, core/train/run.ts); the app passes its own (the training job
// host's child process once it lands) without the demo pipeline changing.
import type { Project } from '../project/project.js';
import { registerRunModel } from '../train/host/register.js';
import { runPretrain } from '../train/run.js';

export interface DemoTrainRequest {
  project: Project;
  /** Run name (folder under runs/). */
  run: string;
  /** Continue `run` from its last checkpoint (its config and step count are kept). */
  resume: boolean;
  /** A new run's budget: minutes, or a fixed step count. */
  minutes?: number;
  steps?: number;
  /** Config overrides of a new run (the Quick preset is used). */
  overrides: Record<string, unknown>;
  signal: AbortSignal;
  onStep(step: number, total: number): void;
  log(line: string): void;
}

export interface DemoTrainResult {
  run: string;
  status: 'done' | 'stopped';
  steps: number;
  totalSteps: number;
}

export type DemoTrainer = (request: DemoTrainRequest) => Promise<DemoTrainResult>;

/** Trains in this process with core/train/run.ts (checkpoints on stop, at the end and every 2 minutes);
 * each checkpoint's teacher becomes the project model models/<run>/, as the job host's children do. */
export const trainInProcess: DemoTrainer = async (r) => {
  const s = await runPretrain(r.project, {
    name: r.run,
    resume: r.resume,
    ...(r.resume ? {} : { preset: 'quick' as const, overrides: r.overrides, minutes: r.minutes, steps: r.steps }),
    checkpointMinutes: 2,
    signal: r.signal,
    log: r.log,
    onStep: (step, total) => r.onStep(step.step, total),
    onCheckpoint: async (trainer, step) => {
      if (step > 0) await registerRunModel(r.project.dir, r.run, trainer.vit, await trainer.teacherBackbone(), step);
    },
  });
  return { run: s.run, status: s.status, steps: s.steps, totalSteps: s.totalSteps };
};

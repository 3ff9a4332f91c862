// What a finished step reports: the losses and gradient norms the student step returned, the schedule values
// it ran with, and the collapse signals of the teacher's targets and CLS (signals.ts).
import type { StepSizes } from '../data/train/batch.js';
import { scalarOf } from './graph-io.js';
import type { StepValues } from './schedule.js';
import { effectiveRank, meanRowEntropy } from './signals.js';
import { STEP_GRAD_NORMS, type StepOutputs } from './step.js';
import type { TeacherOutputs } from './teacher.js';
import type { HealthEntry } from './health/monitor.js';

/** The loss terms of a run's step: DINO's (dino, ibot, koleo; gram while the Gram teacher is active) or CAPI's
 * (capi: the student's prediction loss; clustering: the online clustering head's own loss), and their total. */
export interface RunLosses {
  dino?: number;
  ibot?: number;
  koleo?: number;
  gram?: number;
  capi?: number;
  clustering?: number;
  total: number;
}

/** What the run loop (run.ts runLoop), progress.jsonl and the job host read of any trainer's step: the DINO
 * trainer's StepReport, a distillation's, or a CAPI run's (capi/run-trainer.ts). */
export interface RunStepReport {
  step: number;
  losses: RunLosses;
  gramWeight?: number;
  sizes?: StepSizes;
  lr: number;
  wd: number;
  /** DINO: the teacher's softmax temperature; CAPI: the Sinkhorn-Knopp targets' temperature. */
  teacherTemp: number;
  momentum: number;
  imagesPerSec: number;
  gradNorms: Record<string, number>;
  /** featureRank and meanTargetEntropy are DINO's (its teacher's CLS and DINO targets); a CAPI step has neither. */
  signals: { teacherEntropy: number; featureRank?: number; meanTargetEntropy?: number; nan: boolean };
  health?: HealthEntry;
  amp?: { skipped: boolean; lossScale: number };
}

export interface StepReport extends RunStepReport {
  /** Steps completed after this one (1 after the first step). */
  step: number;
  /** 'gram' while the Gram teacher is active (its weight × it is part of the total). */
  losses: { dino: number; ibot: number; koleo: number; gram?: number; total: number };
  /** The Gram loss weight of this step (with Gram anchoring on). */
  gramWeight?: number;
  /** The crop sides of this step. */
  sizes: StepSizes;
  lr: number;
  wd: number;
  teacherTemp: number;
  momentum: number;
  /** Tiles (each 2 global + nLocal local crops) per second over this step, batch wait included. */
  imagesPerSec: number;
  /** Pre-clipping gradient norms per submodule. */
  gradNorms: Record<string, number>;
  signals: {
    /** Mean entropy (nats) of the teacher's DINO targets; collapse drives it to 0 (one prototype) or ln K (uniform). */
    teacherEntropy: number;
    /** Effective rank of the teacher's CLS features on the batch (≤ 2B − 1). */
    featureRank: number;
    /** Entropy (nats) of the batch-mean DINO target; minus teacherEntropy: what the targets say about each crop (signals.ts). */
    meanTargetEntropy: number;
    /** Some loss or gradient norm is NaN or infinite. */
    nan: boolean;
  };
  /** Dense-feature health of the teacher on the probe tiles, on the steps it was measured. */
  health?: HealthEntry;
  /** Mixed precision: whether the update was skipped (a gradient overflowed in float16; parameters, moments
   * and the optimiser's step count kept) and the loss scale after the step (halved after a skip). */
  amp?: { skipped: boolean; lossScale: number };
}

export interface FinishedStep {
  /** Steps completed after this one. */
  step: number;
  student: StepOutputs;
  teacher: TeacherOutputs;
  schedule: StepValues;
  sizes: StepSizes;
  /** The Gram loss weight of the step (a run with Gram anchoring); the Gram loss is reported while it is active. */
  gram?: { weight: number; active: boolean };
  /** B tiles, K prototypes. */
  batch: number;
  prototypes: number;
  /** Wall time of the step, batch wait included. */
  ms: number;
}

export function stepReport(f: FinishedStep): StepReport {
  const out = f.student;
  const losses: StepReport['losses'] = {
    dino: scalarOf(out.dino),
    ibot: scalarOf(out.ibot),
    koleo: scalarOf(out.koleo),
    total: scalarOf(out.total),
  };
  if (f.gram?.active && out.gram) losses.gram = scalarOf(out.gram);
  const gradNorms = Object.fromEntries(Object.entries(STEP_GRAD_NORMS).map(([group, key]) => [group, scalarOf(out[key])]));
  const amp = out.skipped && out.lossScale ? { skipped: scalarOf(out.skipped) !== 0, lossScale: scalarOf(out.lossScale) } : undefined;
  // A skipped mixed-precision step's gradient norms are Inf or NaN by definition (the step changed nothing):
  // only its losses say whether the run went wrong.
  const nan = [...Object.values(losses), ...(amp?.skipped ? [] : Object.values(gradNorms))].some((x) => !Number.isFinite(x));
  const { cls, targetsDino } = f.teacher;
  const v = f.schedule;
  return {
    step: f.step,
    losses,
    ...(f.gram ? { gramWeight: f.gram.weight } : {}),
    sizes: f.sizes,
    lr: v.lr,
    wd: v.wd,
    teacherTemp: v.teacherTemp,
    momentum: v.momentum,
    imagesPerSec: (f.batch * 1000) / f.ms,
    gradNorms,
    signals: {
      teacherEntropy: scalarOf(f.teacher.entropy),
      featureRank: effectiveRank(cls.data as Float32Array, cls.dims[0], cls.dims[1]),
      meanTargetEntropy: meanRowEntropy(targetsDino.data as Float32Array, 2 * f.batch, f.prototypes),
      nan,
    },
    ...(amp ? { amp } : {}),
  };
}

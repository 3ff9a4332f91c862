// The messages between the job host (core/train/host/host.ts, in the app's main process) and one training
// child process (worker.ts), over node:child_process's IPC channel. Plain JSON-serialisable objects.
import type { TrainStage } from '../../common/api.js';
import type { PresetName } from '../config.js';
import type { StudentSize } from '../distill/config.js';
import type { RunRecord, RunSummary } from '../run.js';
import type { RunStepReport } from '../step-report.js';
import type { CollapseThresholds } from './collapse.js';
import type { StepTiming } from './measure.js';

/** What a run is started with (the host keeps it to restart the child after a crash). */
export interface ChildRunOptions {
  name: string;
  stage: TrainStage;
  preset: PresetName;
  overrides?: Record<string, unknown>;
  steps?: number;
  minutes?: number;
  /** Continue the named run from its last checkpoint (with steps or minutes: extend it by that much). */
  resume: boolean;
  checkpointMinutes?: number;
  /** Steps between teacher PCA previews (also at step 1 and at the end); 0 turns them off. Default 200. */
  previewEvery?: number;
  /** Collapse alerts (false: off; an object: thresholds other than the defaults of collapse.ts). */
  collapse?: boolean | Partial<CollapseThresholds>;
  /** A distillation run (core/train/distill): the teacher's weights file, its model id, the student sizes. */
  distil?: { teacher: string; teacherName: string; students: StudentSize[] };
}

export type ToChild =
  | { type: 'start'; projectDir: string; options: ChildRunOptions }
  /** Time one step of this config, or of this distillation (measure.ts), answer 'measured' or 'failed', exit. */
  | { type: 'measure'; projectDir: string; options: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'> }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'phase'; what: string }
  | { type: 'step'; report: RunStepReport; total: number; eta: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'preview'; step: number; png: string }
  | { type: 'alert'; kind: 'collapse' | 'nan'; step: number; message: string }
  | { type: 'record'; record: RunRecord; modelId: string | null }
  | { type: 'done'; summary: RunSummary }
  | { type: 'measured'; timing: StepTiming }
  | { type: 'failed'; error: string; code: string };

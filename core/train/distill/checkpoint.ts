// A distillation checkpoint: one folder made atomically (checkpoint.ts writeFolderAtomic), so every student is
// saved at the same step or none is:
//   distill.json          step, the teacher (where it was read from, its heads), the students in order
//   students/<name>/      each student a pretraining checkpoint (checkpoint.ts): student.* its trained weights,
//                         teacher.* its EMA (what core/model/weights imports as the model), optimizer state,
//                         and with loss.featureDistil feature-projection.safetensors (the fixed projection of
//                         the teacher's tokens its feature regression targets: feature-loss.ts)
// The teacher's weights are not copied (they are the project's model, frozen): resuming reads them again.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from '../../model/weights/safetensors.js';
import type { TeacherProjection } from './feature-loss.js';
import { type CheckpointContents, readCheckpoint, writeCheckpoint, writeFolderAtomic } from '../checkpoint.js';
import type { DistillTrainer, StudentState } from './trainer.js';

export const DISTILL_FILE = 'distill.json';
const PROJECTION = 'feature-projection.safetensors';

export interface DistillRecord {
  step: number;
  teacher: { weights: string; source: string; heads: 'trained' | 'fresh' };
  students: string[];
}

/** Writes the trainer's state to `dir` atomically. */
export async function writeDistillCheckpoint(dir: string, trainer: DistillTrainer): Promise<void> {
  const states = await trainer.states();
  const rec: DistillRecord = {
    step: trainer.completedSteps,
    teacher: { weights: trainer.teacher.weights, source: trainer.teacher.source, heads: trainer.teacher.heads },
    students: states.map((s) => s.name),
  };
  await writeFolderAtomic(dir, async (tmp) => {
    for (const s of states) await writeCheckpoint(join(tmp, 'students', s.name), s.contents);
    for (const { name, projection: p } of trainer.projections)
      if (p)
        await writeSafetensors(join(tmp, 'students', name, PROJECTION), {
          mean: { shape: [p.teacherDim], data: p.mean },
          projection: { shape: [p.teacherDim, p.studentDim], data: p.projection },
        });
    await writeFileAtomic(join(tmp, DISTILL_FILE), JSON.stringify(rec, null, 2) + '\n');
  });
}

export interface DistillCheckpoint {
  record: DistillRecord;
  students: StudentState[];
  /** The first student's checkpoint (config, health). */
  first: CheckpointContents;
}

export async function readDistillCheckpoint(dir: string): Promise<DistillCheckpoint> {
  const file = join(dir, DISTILL_FILE);
  let record: DistillRecord;
  try {
    record = JSON.parse(await readFile(file, 'utf8')) as DistillRecord;
  } catch (e) {
    throw new DinoscopeError('CORRUPT', `${file}: cannot read the distillation record (${(e as Error).message}).`);
  }
  if (!Array.isArray(record.students) || !record.students.length || !Number.isInteger(record.step))
    throw new DinoscopeError('CORRUPT', `${file}: no students or no step.`);
  const all: CheckpointContents[] = [];
  const projections: (TeacherProjection | null)[] = [];
  for (const name of record.students) {
    projections.push(await readProjection(join(dir, 'students', name, PROJECTION)));
    const c = await readCheckpoint(join(dir, 'students', name));
    if (c.step !== record.step)
      throw new DinoscopeError('CORRUPT', `${dir}: student ${name} is at step ${c.step}, the run at ${record.step}.`);
    all.push(c);
  }
  return {
    record,
    first: all[0],
    students: all.map((c, i) => ({
      name: record.students[i],
      vit: c.vit,
      head: c.head,
      student: c.student,
      ema: c.teacher,
      optimizer: c.optimizer,
      projection: projections[i],
    })),
  };
}

/** A student's saved projection; null when the run has none (no feature regression, or written before it). */
async function readProjection(path: string): Promise<TeacherProjection | null> {
  if (!existsSync(path)) return null;
  const { tensors } = await readSafetensors(path);
  const mean = tensors.get('mean');
  const projection = tensors.get('projection');
  if (!mean || !projection || projection.shape.length !== 2 || projection.shape[0] !== mean.shape[0])
    throw new DinoscopeError('CORRUPT', `${path}: not a feature projection (mean and projection tensors).`);
  return { mean: mean.data, projection: projection.data, teacherDim: projection.shape[0], studentDim: projection.shape[1] };
}

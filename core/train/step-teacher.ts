// The teacher's two parts of a step: its forward on the unmasked global crops before the student step
// (targets, next centres, signals), and the EMA update after it, θ_t ← m·θ_t + (1 − m)·θ_s, fed the student
// runner's state tensors directly (views on CPU: no copies).
import type { Feed, Session, StepRunner } from '../graph/runtime.js';
import { type HostTensor } from '../graph/tensor.js';
import { copyTensor } from './initial.js';
import { type BatchTensors, scalar } from './step-batch.js';
import { EMA_IO, TEACHER_IO, type TeacherOutputs, emaStudentInput } from './teacher.js';

export interface Centers {
  dino: HostTensor;
  ibot: HostTensor;
}

/** The teacher forward with parameters `param(name)` for `names`; `centers` only with EMA centering. */
export async function runTeacher(
  session: Session,
  batch: BatchTensors,
  temp: number,
  centers: Centers | null,
  names: readonly string[],
  param: (name: string) => Feed,
): Promise<TeacherOutputs> {
  const feeds: Record<string, Feed> = TEACHER_IO.feeds({
    global: batch.global,
    ibotIndices: batch.ibotIndices,
    ibotWeights: batch.ibotWeights,
    temp: scalar(temp),
    ...(centers ? { centerDino: centers.dino, centerIbot: centers.ibot } : {}),
  });
  for (const n of names) feeds[n] = param(n);
  return TEACHER_IO.read(await session.run(feeds));
}

/** The centres the teacher computed for the next step (copied: the session's outputs are its own). */
export function nextCenters(t: TeacherOutputs): Centers {
  if (!t.nextCenterDino || !t.nextCenterIbot)
    throw new Error('Trainer: the teacher graph has no next centres (it was built for Sinkhorn-Knopp)');
  return { dino: copyTensor(t.nextCenterDino), ibot: copyTensor(t.nextCenterIbot) };
}

/** One EMA step of the teacher runner `ema` towards the student runner's parameters `names`. */
export async function updateEma(ema: StepRunner, student: StepRunner, names: readonly string[], momentum: number): Promise<void> {
  const feeds: Record<string, Feed> = EMA_IO.feeds({ momentum: scalar(momentum) });
  for (const n of names) feeds[emaStudentInput(n)] = student.value(n); // stays on the device under WebGPU
  await ema.step(feeds);
}

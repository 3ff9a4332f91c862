// The Gram teacher's part of a step (recipe §3): when an 'ema' Gram teacher is copied from the EMA teacher,
// and its patch tokens on the batch's Gram crops with the step's loss weight, the two Gram inputs of the
// student step.
import type { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../../model/config.js';
import { DinoscopeError } from '../../common/errors.js';
import type { GramTeacherState } from '../checkpoint.js';
import { type TrainConfig, gramRefresh, gramSchedule } from '../config.js';
import { scalar } from '../step-batch.js';
import { BACKBONE_IO } from '../teacher.js';
import { gramWeight, shouldRefreshGramTeacher } from './schedule.js';

/** Whether the EMA teacher is copied into the Gram teacher before step `it`: at the stage start, on the refresh rule, or when a resumed run has none yet. */
export function gramCopyDue(c: TrainConfig, it: number, current: GramTeacherState | null): boolean {
  if (!c.gram.enabled || c.gram.teacher !== 'ema') return false;
  return (it === c.gram.startStep && !current) || shouldRefreshGramTeacher(gramRefresh(c), it) || (!current && it > c.gram.startStep);
}

/** The Gram inputs of step `it`: the teacher's patch tokens (2B, Nt, D) on `crops` (2B, 3, S, S); zeros and weight 0 until a Gram teacher exists. */
export async function gramInputs(
  session: Session,
  o: { config: TrainConfig; vit: ViTConfig; side: number; crops: Float32Array | undefined; teacher: GramTeacherState | null; step: number },
): Promise<{ gramTeacher: HostTensor; gramWeight: HostTensor; weight: number }> {
  const B = o.config.batchSize;
  const S = o.side;
  if (!o.teacher) {
    const tg = patchGrid(o.vit, S, S);
    return { gramTeacher: hostTensor('float32', [2 * B, tg.h * tg.w, o.vit.dim]), gramWeight: scalar(0), weight: 0 };
  }
  if (!o.crops) throw new Error(`Trainer: Gram anchoring is on but the batch for step ${o.step} has no Gram crops`);
  const params = o.teacher.params;
  const feeds = BACKBONE_IO.feeds({ images: hostTensor('float32', [2 * B, 3, S, S], o.crops) });
  for (const n of session.inputNames) {
    if (n in feeds) continue;
    const p = params.get(n);
    if (!p) throw new DinoscopeError('CORRUPT', `The Gram teacher has no value for ${n}.`);
    feeds[n] = p;
  }
  const weight = gramWeight(gramSchedule(o.config), o.step);
  return {
    gramTeacher: BACKBONE_IO.read(await session.run(feeds, [BACKBONE_IO.outputs.patches])).patches,
    gramWeight: scalar(weight),
    weight,
  };
}

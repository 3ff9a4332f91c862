// A step's batch as graph values: checked against the step and the graph set, then the host tensors the
// teacher and the student step share (the same global crops and masked slots feed both), and the student
// step's feeds.
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig } from '../model/config.js';
import { Rng } from '../model/params.js';
import { sampleRopeAug } from '../model/rope.js';
import type { StepSizes, TrainBatch } from '../data/train/batch.js';
import { type TrainConfig } from './config.js';
import { type StepValues } from './schedule.js';
import { type StepFeeds } from './step.js';
import { type TeacherOutputs } from './teacher.js';

export interface BatchTensors {
  /** (2B, C, G, G) global crops, crop outer. */
  global: HostTensor;
  /** (nLocal·B, C, L, L) local crops; absent with no local crops. */
  local?: HostTensor;
  /** (2B, N) bool: true = masked. */
  masks: HostTensor;
  /** (U,) int64 flat indices of the masked slots and (U,) their iBOT weights. */
  ibotIndices: HostTensor;
  ibotWeights: HostTensor;
}

/** The crop sides of the batch of step `it`, after checking that it is that step's and has what the run needs. */
export function batchSizes(batch: TrainBatch, it: number, c: TrainConfig): StepSizes {
  if (batch.step !== undefined && batch.step !== it) throw new Error(`Trainer: batch for step ${batch.step} arrived at step ${it}`);
  const sizes = batch.sizes ?? {
    global: batch.crops.config.globalSize,
    local: batch.crops.config.localSize,
    gram: batch.crops.gramSize ?? 0,
  };
  if (c.gram.enabled && (!sizes.gram || !batch.crops.gram))
    throw new Error(`Trainer: Gram anchoring is on but the batch for step ${it} has no Gram crops`);
  return sizes;
}

/** The batch's tensors for graphs of crop sides `sizes`, `maskSlots` masked slots and C = `channels` input channels. */
export function batchTensors(batch: TrainBatch, c: TrainConfig, sizes: StepSizes, maskSlots: number, channels = 3): BatchTensors {
  if (batch.masks.upperBound !== maskSlots)
    throw new Error(`Trainer: batch has ${batch.masks.upperBound} mask slots, the graphs ${maskSlots}`);
  const B = c.batchSize;
  const { global: G, local: L } = sizes;
  const nLocal = c.crops.localCrops;
  const C = channels;
  if (batch.crops.global.length !== 2 * B * C * G * G)
    throw new Error(
      `Trainer: batch ${batch.step} has ${batch.crops.global.length / (2 * B * G * G)} channels per crop, the model takes ${C}`,
    );
  return {
    global: hostTensor('float32', [2 * B, C, G, G], batch.crops.global),
    ...(nLocal > 0 ? { local: hostTensor('float32', [nLocal * B, C, L, L], batch.crops.local) } : {}),
    masks: hostTensor('bool', [2 * B, batch.masks.patches], batch.masks.masks),
    ibotIndices: hostTensor(
      'int64',
      [maskSlots],
      BigInt64Array.from(batch.masks.indices, (x) => BigInt(x)),
    ),
    ibotWeights: hostTensor('float32', [maskSlots], batch.masks.weights),
  };
}

/**
 * The student step's feeds: the batch, the teacher's targets, this step's schedule scalars (the heads' last
 * layers gated off while frozen), the RoPE draws (v3 with augmentation) and the Gram inputs (Gram anchoring).
 */
export function studentFeeds(
  batch: BatchTensors,
  teacher: TeacherOutputs,
  v: StepValues,
  rope: { ropeGlobal: HostTensor; ropeLocal?: HostTensor } | null,
  gram: { gramTeacher: HostTensor; gramWeight: HostTensor } | null,
): StepFeeds {
  return {
    ...batch,
    teacherDino: teacher.targetsDino,
    teacherIbot: teacher.targetsIbot,
    lastLayerGate: scalar(v.lastLayerLr > 0 || v.lr === 0 ? 1 : 0),
    lr: scalar(v.lr),
    wd: scalar(v.wd),
    ...rope,
    ...(gram ? { gramTeacher: gram.gramTeacher, gramWeight: gram.gramWeight } : {}),
  };
}

/** A float32 scalar graph value. */
export const scalar = (x: number): HostTensor => hostTensor('float32', [], [x]);

/** The RoPE augmentation draws of step `it` (one per crop group and block): a pure function of (seed, step), so a resumed run draws the same. */
export function ropeDraws(
  vit: ViTConfig,
  seed: number,
  it: number,
  withLocal: boolean,
): { ropeGlobal: HostTensor; ropeLocal?: HostTensor } {
  const rng = new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(it + 1, 0x85ebca6b)) >>> 0);
  const ropeGlobal = sampleRopeAug(vit, rng);
  return withLocal ? { ropeGlobal, ropeLocal: sampleRopeAug(vit, rng) } : { ropeGlobal };
}

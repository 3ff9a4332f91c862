// A CAPI run's checkpoint folder, written atomically as the DINO trainer's (checkpoint.ts: every file
// through core/io/atomic.ts into a temp folder, fsynced, swapped in by rename):
//   model.safetensors      student.backbone.* and teacher.backbone.* (PyTorch layout, canonical names:
//                          core/model/weights imports teacher.backbone.* as the run's model),
//                          student.predictor.* (graph layout), teacher.clustering.weight / .bias
//   optimizer.safetensors  the student's AdamW per tensor (adam_m/…, adam_v/…, optim/step) and the
//                          clustering head's under 'clustering_optim/'
//   state.json             step, data RNG (seed, step), ViT config; train-config.json; config.json
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, validateConfig } from '../../model/config.js';
import { fromGraphLayout, toGraphLayout } from '../../model/params.js';
import { type TensorToWrite, readSafetensors, writeSafetensors } from '../../model/weights/safetensors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readCheckpointJson, writeFolderAtomic } from '../checkpoint.js';
import { type TrainConfig, completeConfig } from '../config.js';
import { type HealthEntry } from '../health/monitor.js';
import { type SavedHealth } from '../health/run-health.js';
import { CLUSTERING_BIAS, CLUSTERING_WEIGHT, PREDICTOR_SCOPE } from './model.js';

export interface CapiCheckpoint {
  step: number;
  config: TrainConfig;
  vit: ViTConfig;
  /** Per tensor, graph names and layout: the encoder + predictor (student), the encoder + clustering head (teacher). */
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor>;
  /** The student's and (prefixed CLUSTERING_OPTIM) the clustering head's AdamW state per tensor. */
  optimizer: Map<string, HostTensor>;
  /** The health probe tiles (P, 3, S, S) and history so far (health/run-health.ts). */
  health?: SavedHealth | null;
}

export const CLUSTERING_OPTIM = 'clustering_optim/';

const isBackbone = (n: string): boolean => !n.startsWith(PREDICTOR_SCOPE) && n !== CLUSTERING_WEIGHT && n !== CLUSTERING_BIAS;

function f32(t: HostTensor): TensorToWrite {
  if (t.dtype !== 'float32') throw new Error(`checkpoint: ${t.dtype} tensors are not stored`);
  return { shape: t.dims, data: t.data as Float32Array };
}

/** Graph name → stored key and value (the encoder in PyTorch layout, the heads as the graph holds them). */
function toStored(name: string, t: HostTensor, vit: ViTConfig): [string, TensorToWrite] {
  if (isBackbone(name)) return [`backbone.${name}`, f32(fromGraphLayout(name, t, vit.inChans))];
  return [name.replace('/', '.'), f32(t)];
}

function fromStored(key: string, t: { shape: number[]; data: Float32Array }): [string, HostTensor] {
  const host = hostTensor('float32', t.shape, t.data);
  if (key.startsWith('backbone.')) {
    const name = key.slice('backbone.'.length);
    return [name, toGraphLayout(name, host)];
  }
  return [key.replace('.', '/'), host];
}

export async function writeCapiCheckpoint(dir: string, c: CapiCheckpoint): Promise<void> {
  await writeFolderAtomic(dir, async (tmp) => {
    const model = new Map<string, TensorToWrite>();
    for (const [who, m] of [
      ['student', c.student],
      ['teacher', c.teacher],
    ] as const)
      for (const [name, t] of m) {
        const [key, v] = toStored(name, t, c.vit);
        model.set(`${who}.${key}`, v);
      }
    if (c.health) model.set('health.probes', f32(c.health.tiles));
    await writeSafetensors(join(tmp, 'model.safetensors'), model, { format: 'dinoscope-train', objective: 'capi', step: String(c.step) });
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), new Map([...c.optimizer].map(([k, t]) => [k, f32(t)])));
    const state = {
      step: c.step,
      objective: 'capi',
      rng: { kind: 'seeded-by-step', seed: c.config.seed, step: c.step },
      vit: c.vit,
      health: c.health?.history ?? null,
    };
    await writeFileAtomic(join(tmp, 'state.json'), JSON.stringify({ ...state, written: new Date().toISOString() }, null, 2));
    await writeFileAtomic(join(tmp, 'train-config.json'), JSON.stringify(c.config, null, 2));
    await writeFileAtomic(
      join(tmp, 'config.json'),
      JSON.stringify({ num_heads: c.vit.heads, layer_norm_eps: c.vit.eps, dinoscope_train_step: c.step }, null, 2),
    );
  });
}

export async function readCapiCheckpoint(dir: string): Promise<CapiCheckpoint> {
  const read = (f: string): Promise<unknown> => readCheckpointJson(dir, f);
  const state = (await read('state.json')) as { step: number; objective?: string; vit: ViTConfig; health?: HealthEntry[] | null };
  if (state.objective !== 'capi')
    throw new DinoscopeError('BAD_INPUT', `${dir}: not a CAPI checkpoint (resume it with the trainer of its objective).`);
  if (!Number.isInteger(state.step) || state.step < 0)
    throw new DinoscopeError('CORRUPT', `${join(dir, 'state.json')}: step must be an integer ≥ 0.`);
  const config = completeConfig((await read('train-config.json')) as TrainConfig);
  validateConfig(state.vit);
  const student = new Map<string, HostTensor>();
  const teacher = new Map<string, HostTensor>();
  let probes: HostTensor | null = null;
  for (const [key, t] of (await readSafetensors(join(dir, 'model.safetensors'))).tensors) {
    if (key === 'health.probes') probes = hostTensor('float32', t.shape, t.data);
    else if (key.startsWith('student.')) student.set(...fromStored(key.slice(8), t));
    else if (key.startsWith('teacher.')) teacher.set(...fromStored(key.slice(8), t));
  }
  const optimizer = new Map<string, HostTensor>();
  for (const [k, t] of (await readSafetensors(join(dir, 'optimizer.safetensors'))).tensors)
    optimizer.set(k, hostTensor('float32', t.shape, t.data));
  return {
    step: state.step,
    config,
    vit: state.vit,
    student,
    teacher,
    optimizer,
    health: probes ? { tiles: probes, history: state.health ?? [] } : null,
  };
}

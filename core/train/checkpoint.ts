// Training checkpoints that resume exactly: one folder written atomically (a temp folder beside it whose every file, the
// safetensors and the JSON alike, is written and fsynced through core/io/atomic.ts; then renames, and the
// parent folder is fsynced so the swap is on the disk too; the previous checkpoint is replaced only after
// the new one is complete):
//   model.safetensors      student.{backbone,dino_head,ibot_head}.* and teacher.* in PyTorch layout
//                          (core/model/weights imports 'teacher.backbone.*' as the model to keep), and the
//                          centers center.dino / center.ibot (1, K) when EMA centering is used
//   optimizer.safetensors  AdamW moments adam_m/<param>, adam_v/<param> (graph layout) and optim/step
//                          with Gram anchoring the Gram teacher's backbone gram.backbone.*, with health on
//                          the probe tiles health.probes (P, 3, S, S)
//   state.json             schedule position (step), data RNG state, ViT and head configs, the Gram teacher's
//                          identity (source, step copied), the size sampler's state, the health history
//   train-config.json      the merged TrainConfig
//   config.json            what the weights importer needs beside model.safetensors to rebuild the ViT
//                          (num_heads, layer_norm_eps: the rest follows from the tensor shapes)
// Every float is stored as F32, so a resumed run continues bit for bit.
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DinoscopeError } from '../common/errors.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, validateConfig } from '../model/config.js';
import { fromGraphLayout, toGraphLayout } from '../model/params.js';
import { type TensorToWrite, readSafetensors, writeSafetensors } from '../model/weights/safetensors.js';
import { syncFolder, writeFileAtomic } from '../io/atomic.js';
import { type TrainConfig, completeConfig } from './config.js';
import { type HeadConfig, headLayout } from './heads.js';
import { checkpointKey, graphName } from './model.js';
import { type RngState } from '../data/train/random.js';
import { type HealthEntry } from './health/monitor.js';

/** The data pipeline's RNG: batches are a pure function of (seed, step) (core/data/train/batch.ts). */
export interface DataRngState {
  kind: 'seeded-by-step';
  seed: number;
  step: number;
}

export interface CheckpointContents {
  /** Steps completed: the next step to run. */
  step: number;
  config: TrainConfig;
  vit: ViTConfig;
  head: HeadConfig;
  /** Graph parameter name → value in graph layout. */
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor>;
  /** Optimiser state input name (adam_m/…, adam_v/…, optim/step) → value. */
  optimizer: Map<string, HostTensor>;
  centers: { dino: HostTensor; ibot: HostTensor } | null;
  rng: DataRngState;
  /** The frozen Gram teacher: its backbone (graph layout), where it came from and the step it was copied at. */
  gram?: GramTeacherState | null;
  /** The per-step size sampler's state before the draw of `step` (high-resolution adaptation). */
  sizes?: RngState | null;
  /** The probe tiles (P, 3, S, S) and the health history so far. */
  health?: { tiles: HostTensor; history: HealthEntry[] } | null;
}

export interface GramTeacherState {
  params: Map<string, HostTensor>;
  /** 'start': the model the run started from; 'ema': a copy of the EMA teacher. */
  source: 'start' | 'ema';
  /** The step at which it was copied (0 for 'start'). */
  copiedAt: number;
}

const MODEL = 'model.safetensors';
const OPTIM = 'optimizer.safetensors';
const STATE = 'state.json';
const CONFIG = 'train-config.json';

const isHead = (name: string): boolean => name.startsWith('dino_head/') || name.startsWith('ibot_head/');

function f32(t: HostTensor): TensorToWrite {
  if (t.dtype !== 'float32') throw new Error(`checkpoint: ${t.dtype} tensors are not stored`);
  return { shape: t.dims, data: t.data as Float32Array };
}

/** Graph layout → PyTorch layout under its checkpoint key. */
function toStored(name: string, t: HostTensor, vit: ViTConfig): [string, TensorToWrite] {
  const v = isHead(name) ? headLayout(t) : fromGraphLayout(name, t, vit.inChans);
  const key = isHead(name) ? checkpointKey(name) : `backbone.${name}`;
  return [key, f32(v)];
}

function fromStored(key: string, t: { shape: number[]; data: Float32Array }): [string, HostTensor] {
  const host = hostTensor('float32', t.shape, t.data);
  if (key.startsWith('backbone.')) {
    const name = key.slice('backbone.'.length);
    return [name, toGraphLayout(name, host)];
  }
  return [graphName(key), headLayout(host)];
}

/** Writes `c` to `dir` atomically (replacing an older checkpoint there). */
export async function writeCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  await writeFolderAtomic(dir, (tmp) => fillCheckpoint(tmp, c));
}

/**
 * Makes folder `dir` atomically: `fill` writes its files into a fresh temp folder beside it (each through
 * core/io/atomic.ts); the temp folder is fsynced, takes the name, the parent is fsynced, and only then is the
 * previous folder deleted. A crash at any point leaves the previous folder whole (or as `.NAME.*.old`).
 */
export async function writeFolderAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.${randomBytes(6).toString('hex')}.tmp`);
  await mkdir(tmp);
  try {
    await fill(tmp);
    // Swap: the old folder moves aside, the new one takes its name, the old one is deleted.
    const old = join(parent, `.${basename(dir)}.${randomBytes(6).toString('hex')}.old`);
    const had = await stat(dir).then(
      () => true,
      () => false,
    );
    await syncFolder(tmp); // the new folder's entries, before it takes the checkpoint's name
    if (had) await rename(dir, old);
    await rename(tmp, dir);
    await syncFolder(parent);
    if (had) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A checkpoint's files written into the (empty) folder `tmp`. */
async function fillCheckpoint(tmp: string, c: CheckpointContents): Promise<void> {
  const model = new Map<string, TensorToWrite>();
  for (const [who, m] of [
    ['student', c.student],
    ['teacher', c.teacher],
  ] as const) {
    for (const [name, t] of m) {
      const [key, v] = toStored(name, t, c.vit);
      model.set(`${who}.${key}`, v);
    }
  }
  if (c.centers) {
    model.set('center.dino', f32(c.centers.dino));
    model.set('center.ibot', f32(c.centers.ibot));
  }
  for (const [name, t] of c.gram?.params ?? []) {
    const [key, v] = toStored(name, t, c.vit);
    model.set(`gram.${key}`, v);
  }
  if (c.health) model.set('health.probes', f32(c.health.tiles));
  await writeSafetensors(join(tmp, MODEL), model, { format: 'dinoscope-train', step: String(c.step) });
  await writeSafetensors(join(tmp, OPTIM), new Map([...c.optimizer].map(([k, t]) => [k, f32(t)])));
  const state = {
    step: c.step,
    rng: c.rng,
    vit: c.vit,
    head: c.head,
    gram: c.gram ? { source: c.gram.source, copiedAt: c.gram.copiedAt } : null,
    sizes: c.sizes ?? null,
    health: c.health?.history ?? null,
    written: new Date().toISOString(),
  };
  await writeFileAtomic(join(tmp, STATE), JSON.stringify(state, null, 2));
  await writeFileAtomic(join(tmp, CONFIG), JSON.stringify(c.config, null, 2));
  await writeFileAtomic(
    join(tmp, 'config.json'),
    JSON.stringify({ num_heads: c.vit.heads, layer_norm_eps: c.vit.eps, dinoscope_train_step: c.step }, null, 2),
  );
}

/** One JSON file of a checkpoint folder: NOT_FOUND or CORRUPT naming the file. */
export async function readCheckpointJson(dir: string, f: string): Promise<unknown> {
  const p = join(dir, f);
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch {
    throw new DinoscopeError('NOT_FOUND', `${p}: no such checkpoint file.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DinoscopeError('CORRUPT', `${p}: not valid JSON (${(e as Error).message}).`);
  }
}

/** Reads a checkpoint folder; CORRUPT naming the file when a part is missing or inconsistent. */
export async function readCheckpoint(dir: string): Promise<CheckpointContents> {
  const read = (f: string): Promise<unknown> => readCheckpointJson(dir, f);
  const state = (await read(STATE)) as {
    step: number;
    rng: DataRngState;
    vit: ViTConfig;
    head: HeadConfig;
    gram?: { source: 'start' | 'ema'; copiedAt: number } | null;
    sizes?: RngState | null;
    health?: HealthEntry[] | null;
  };
  const config = completeConfig((await read(CONFIG)) as TrainConfig); // strict: BAD_INPUT on bad values
  if (!Number.isInteger(state.step) || state.step < 0)
    throw new DinoscopeError('CORRUPT', `${join(dir, STATE)}: step must be an integer ≥ 0.`);
  validateConfig(state.vit);
  const model = (await readSafetensors(join(dir, MODEL))).tensors;
  const student = new Map<string, HostTensor>();
  const teacher = new Map<string, HostTensor>();
  let cd: HostTensor | null = null;
  let ci: HostTensor | null = null;
  let probes: HostTensor | null = null;
  const gramParams = new Map<string, HostTensor>();
  for (const [key, t] of model) {
    if (key === 'health.probes') probes = hostTensor('float32', t.shape, t.data);
    else if (key.startsWith('gram.')) gramParams.set(...fromStored(key.slice(5), t));
    else if (key === 'center.dino') cd = hostTensor('float32', t.shape, t.data);
    else if (key === 'center.ibot') ci = hostTensor('float32', t.shape, t.data);
    else if (key.startsWith('student.')) student.set(...fromStored(key.slice(8), t));
    else if (key.startsWith('teacher.')) teacher.set(...fromStored(key.slice(8), t));
  }
  const optimizer = new Map<string, HostTensor>();
  for (const [k, t] of (await readSafetensors(join(dir, OPTIM))).tensors) optimizer.set(k, hostTensor('float32', t.shape, t.data));
  if (state.gram && gramParams.size === 0)
    throw new DinoscopeError('CORRUPT', `${join(dir, MODEL)}: state.json names a Gram teacher but no gram.backbone.* tensors are stored.`);
  return {
    step: state.step,
    config,
    vit: state.vit,
    head: state.head,
    student,
    teacher,
    optimizer,
    centers: cd && ci ? { dino: cd, ibot: ci } : null,
    rng: state.rng,
    gram: state.gram ? { params: gramParams, source: state.gram.source, copiedAt: state.gram.copiedAt } : null,
    sizes: state.sizes ?? null,
    health: probes ? { tiles: probes, history: state.health ?? [] } : null,
  };
}

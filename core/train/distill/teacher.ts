// The distillation teacher: any model the project has, frozen, with its DINO and iBOT heads when they exist.
// - A run's checkpoint folder (model.safetensors beside state.json), or a project model a run registered
//   (its weights name the run; the run's last checkpoint is read): the checkpoint's EMA teacher, backbone and
//   heads as trained together: the recipe's case (§7: teacher = frozen backbone + heads).
// - Imported or downloaded weights (Hugging Face, timm, original layouts) carry no heads: released DINOv2 and
//   DINOv3 checkpoints are backbones only. The recipe has no such case (its teacher always comes with the heads
//   it was trained with), so, as continued pretraining does with these weights (heads fresh), the teacher gets
//   fresh heads: seeded, frozen. Its targets are then the Sinkhorn-Knopp-balanced assignments of its CLS and
//   patch features, through a fixed random MLP, to K random prototypes: a fixed function of the teacher's
//   features that the student must reproduce from its own, which is what distillation needs of the heads.
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig } from '../../model/config.js';
import { toGraphLayout } from '../../model/params.js';
import { loadWeights } from '../../model/weights/import.js';
import { readCheckpoint } from '../checkpoint.js';
import { type TrainConfig, headConfig } from '../config.js';
import { type HeadConfig, headLayout, initHeadParams } from '../heads.js';
import { HEADS } from '../model.js';

export interface DistillTeacher {
  /** The weights file the run was given (what a resume reads again). */
  weights: string;
  /** Where its parameters were read from: that file, or the run checkpoint holding its heads. */
  source: string;
  vit: ViTConfig;
  head: HeadConfig;
  /** 'trained': the heads it was trained with; 'fresh': seeded random heads (weights without heads). */
  heads: 'trained' | 'fresh';
  /** Backbone and heads, graph parameter names, graph layout. */
  params: Map<string, HostTensor>;
  /** One log line: what the teacher is and where its heads come from. */
  line: string;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The checkpoint folder holding the heads for `weights`, or null: a checkpoint's own model.safetensors, or a
 * run model's run (`dinoscope_run` in its metadata) in the project. */
async function checkpointFor(weights: string, runName: string | undefined, projectDir: string | undefined): Promise<string | null> {
  const beside = dirname(weights);
  if (basename(weights) === 'model.safetensors' && (await exists(join(beside, 'state.json')))) return beside;
  if (runName && projectDir) {
    const ck = join(projectDir, 'runs', runName, 'checkpoints', 'latest');
    if (await exists(join(ck, 'state.json'))) return ck;
  }
  return null;
}

/** Loads the teacher in `weights`; fresh heads (seed `config.seed` + 101) take the run config's head sizes. */
export async function loadDistillTeacher(weights: string, config: TrainConfig, projectDir?: string): Promise<DistillTeacher> {
  const w = await loadWeights(weights);
  const ck = await checkpointFor(weights, w.metadata.dinoscope_run, projectDir);
  if (ck) {
    const c = await readCheckpoint(ck);
    const params = new Map([...c.teacher].map(([k, t]) => [k, t]));
    return {
      weights,
      source: ck,
      vit: c.vit,
      head: c.head,
      heads: 'trained',
      params,
      line: `teacher: ${weights} with the DINO and iBOT heads it was trained with (run checkpoint ${ck}, step ${c.step}; K ${c.head.prototypes})`,
    };
  }
  const vit: ViTConfig = { ...w.config, layerScale: { ...w.config.layerScale } };
  const head = headConfig(config, vit);
  const params = new Map<string, HostTensor>();
  for (const [k, t] of w.tensors) params.set(k, toGraphLayout(k, hostTensor('float32', t.shape, t.data)));
  HEADS.forEach((h, i) => {
    for (const [k, t] of Object.entries(initHeadParams(head, vit.dim, config.seed + 101 + i))) params.set(`${h}/${k}`, headLayout(t));
  });
  return {
    weights,
    source: weights,
    vit,
    head,
    heads: 'fresh',
    params,
    line: `teacher: ${weights} has no DINO/iBOT heads (a backbone only); it gets fresh heads, seeded and frozen (K ${head.prototypes}): targets are its features through a fixed random head`,
  };
}

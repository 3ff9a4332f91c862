// The state a Trainer starts from: a new run's (seeded init, or imported weights with fresh heads; the teacher
// a copy of the student), or a checkpoint's (checkpoint.ts CheckpointContents has the same shape).
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig } from '../model/config.js';
import { inflatePatchEmbed } from '../model/inflate.js';
import { initParams, toGraphLayout } from '../model/params.js';
import { loadWeights } from '../model/weights/import.js';
import { DinoscopeError } from '../common/errors.js';
import { type GramTeacherState } from './checkpoint.js';
import { type TrainConfig, centering, headConfig, scratchViT } from './config.js';
import { type HealthEntry } from './health/monitor.js';
import { type HeadConfig, headLayout, initHeadParams } from './heads.js';
import { HEADS } from './model.js';

export interface InitialState {
  step: number;
  vit: ViTConfig;
  head: HeadConfig;
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor>;
  optimizer: Map<string, HostTensor> | null;
  centers: { dino: HostTensor; ibot: HostTensor } | null;
  gram?: GramTeacherState | null;
  health?: { tiles: HostTensor; history: HealthEntry[] } | null;
}

/** A new run: from scratch (seeded init) or from imported weights (config.model.from); teacher = student. */
export async function newRunState(config: TrainConfig): Promise<InitialState> {
  let vit: ViTConfig;
  let backbone: Record<string, HostTensor>;
  if (config.model.from) {
    const w = await loadWeights(config.model.from);
    vit = { ...w.config, layerScale: { ...w.config.layerScale } };
    backbone = {};
    for (const [k, t] of w.tensors) backbone[k] = hostTensor('float32', t.shape, t.data);
    const C = config.model.channels;
    if (C !== null && vit.inChans !== C) {
      // Continued pretraining on a fixed C-channel panel: the RGB model's patch embedding inflated to C channels.
      if (vit.inChans !== 3)
        throw new DinoscopeError(
          'BAD_INPUT',
          `${config.model.from} takes ${vit.inChans} input channels, the images have ${C}: start from an RGB model or from a model of this panel.`,
        );
      ({ config: vit, weights: backbone } = inflatePatchEmbed(vit, backbone, C));
    }
    for (const s of [config.crops.globalSize, config.crops.localSize]) {
      if (s % vit.patchSize)
        throw new DinoscopeError(
          'BAD_INPUT',
          `${config.model.from}: crop size ${s} is not a multiple of the model's patch size ${vit.patchSize}.`,
        );
    }
  } else {
    vit = scratchViT(config);
    backbone = initParams(vit, config.seed);
  }
  const head = headConfig(config, vit);
  const student = new Map<string, HostTensor>();
  for (const [k, t] of Object.entries(backbone)) student.set(k, toGraphLayout(k, t));
  HEADS.forEach((h, i) => {
    for (const [k, t] of Object.entries(initHeadParams(head, vit.dim, config.seed + 1 + i))) student.set(`${h}/${k}`, headLayout(t));
  });
  // dinov2: the teacher starts as a copy of the student.
  const teacher = new Map([...student].map(([k, t]) => [k, copyTensor(t)]));
  const K = head.prototypes;
  const centers = centering(config, vit) === 'ema' ? { dino: hostTensor('float32', [1, K]), ibot: hostTensor('float32', [1, K]) } : null;
  // Gram teacher 'start': the model the run starts from, frozen (fine-tuning, high-resolution adaptation).
  const gram: GramTeacherState | null =
    config.gram.enabled && config.gram.teacher === 'start' ? { params: backboneCopy(student), source: 'start', copiedAt: 0 } : null;
  return { step: 0, vit, head, student, teacher, optimizer: null, centers, gram };
}

/** A copy of the backbone parameters of `params` (the heads left out): a Gram teacher. */
export function backboneCopy(params: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  return new Map([...params].filter(([k]) => !k.includes('_head/')).map(([k, t]) => [k, copyTensor(t)]));
}

/** A host tensor with its own copy of the data (a runner's tensors are views it overwrites). */
export function copyTensor(t: HostTensor): HostTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as HostTensor;
}

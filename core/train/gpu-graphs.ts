// The graphs a GPU runs, built as the app builds them, at sizes small enough to compile and run in
// seconds: the extraction backbone (core/model inferenceGraph, as core/features/extract TileModel builds it)
// and, per training preset (Quick, Standard, the Gram-anchored adapt step), the student step, the teacher,
// the EMA update and (adapt) the Gram teacher — with the op lowering the trainer uses for WebGPU. Each
// preset keeps its structure (architecture, registers, local crops, heads, Gram anchoring, KoLeo groups,
// rematerialisation); only the widths, depth and crop sides shrink. Plus the Standard step in mixed precision
// (core/graph/amp.ts), checked only where the provider runs float16 (not SwiftShader). Used by the
// node-placement check (placement.test.ts) and `npm run bench -- placement`.
import { type Graph, loweringFor } from '../graph/graph.js';
import { optimize } from '../graph/optimize.js';
import { type ViTConfig, patchGrid, vitConfig } from '../model/config.js';
import { inferenceGraph } from '../model/inference.js';
import { initParams } from '../model/params.js';
import { maskUpperBound } from '../data/train/masking.js';
import { type PresetName, type TrainConfig, centering, headConfig, scratchViT, trainConfig } from './config.js';
import { type StepGraph, buildStepGraph } from './step.js';
import { type HeadConfig } from './heads.js';
import { buildBackboneGraph, buildEmaGraph, buildTeacherGraph } from './teacher.js';

export interface GpuGraph {
  /** e.g. 'extract', 'quick/step', 'adapt/gram-teacher'. */
  name: string;
  graph: Graph;
  /** The student step's graph and optimiser (training step graphs only). */
  step?: StepGraph;
  /** The model the step trains (training step graphs only). */
  spec?: { vit: ViTConfig; head: HeadConfig };
  /** Needs a provider that runs float16 (a mixed-precision step). */
  float16?: boolean;
}

/**
 * Small widths for every preset: ViT dim 32, one block, 2 heads; head K 64. LayerScale starts at 1 (Quick's
 * value; the graph is the same at any value): at the recipe's 1e-5 every image's CLS token is the same to
 * ~1e-5, KoLeo takes −log of nearest-neighbour distances ~1e-11, and float rounding alone moved the Standard
 * step's KoLeo loss by 6e-4 relative between WebGPU and the CPU — an ill-conditioned check, not a GPU error.
 */
const SMALL = {
  model: { vit: { dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 }, layerScale: { init: 1 } } },
  head: { prototypes: 64, hidden: 32, bottleneck: 16 },
};

/** The training presets checked, with crop sides small enough for seconds (multiples of the patch 16). */
export const GPU_PRESETS: { preset: PresetName; name: string; overrides: Record<string, unknown>; gram: number }[] = [
  {
    preset: 'quick',
    name: 'quick',
    overrides: { ...SMALL, batchSize: 2, crops: { globalSize: 48, localSize: 16, localCrops: 2 } },
    gram: 0,
  },
  {
    preset: 'standard',
    name: 'standard',
    overrides: { ...SMALL, batchSize: 2, crops: { globalSize: 48, localSize: 32, localCrops: 3 } },
    gram: 0,
  },
  // The adapt step: Gram anchoring against a teacher at 1.5× the global side, KoLeo in groups of 2.
  {
    preset: 'adapt-gpu',
    name: 'adapt',
    overrides: {
      ...SMALL,
      model: { ...SMALL.model, from: 'model.safetensors' },
      batchSize: 4,
      crops: { globalSize: 32, localSize: 16, localCrops: 2 },
      loss: { koleoGroup: 2 },
    },
    gram: 48,
  },
];

/** The config of one GPU_PRESETS entry. */
export function gpuPresetConfig(e: (typeof GPU_PRESETS)[number]): TrainConfig {
  return trainConfig(e.preset, e.overrides);
}

/** The training graphs of one preset entry, as Trainer.buildSet builds them for WebGPU (`mixed`: the step alone, in mixed precision). */
export function trainingGraphs(e: (typeof GPU_PRESETS)[number], mixed = false): GpuGraph[] {
  const c = gpuPresetConfig(e);
  const vit = scratchViT(c);
  const head = headConfig(c, vit);
  const B = c.batchSize;
  const { h, w } = patchGrid(vit, c.crops.globalSize, c.crops.globalSize);
  const maskSlots = maskUpperBound(2 * B, { gridH: h, gridW: w, maskProbability: c.masking.maskProbability, ratio: c.masking.ratio });
  const step = buildStepGraph({
    vit,
    head,
    batch: B,
    globalSize: c.crops.globalSize,
    localSize: c.crops.localSize,
    localCrops: c.crops.localCrops,
    maskSlots,
    loss: c.loss,
    optim: c.optim,
    remat: c.runtime.remat,
    gram: e.gram ? { teacherSize: e.gram } : null,
    lowering: { ...loweringFor(['webgpu']), ...(mixed ? { mixedPrecision: true } : {}) },
  });
  optimize(step.graph);
  if (mixed) return [{ name: `${e.name}/step-mixed`, graph: step.graph, step, spec: { vit, head }, float16: true }];
  const teacher = buildTeacherGraph({
    vit,
    head,
    batch: B,
    globalSize: c.crops.globalSize,
    maskSlots,
    centering: centering(c, vit),
    centerMomentum: c.teacher.centerMomentum,
    sinkhornIterations: c.teacher.sinkhornIterations,
  });
  optimize(teacher);
  const out: GpuGraph[] = [
    { name: `${e.name}/step`, graph: step.graph, step, spec: { vit, head } },
    { name: `${e.name}/teacher`, graph: teacher },
    { name: `${e.name}/ema`, graph: buildEmaGraph(vit, head).graph },
  ];
  if (e.gram) {
    const gram = buildBackboneGraph(vit, 2 * B, e.gram);
    optimize(gram);
    out.push({ name: `${e.name}/gram-teacher`, graph: gram });
  }
  return out;
}

/** The extraction graph: ViT-S/14-shaped (DINOv2, 4 registers) at a small width, weights embedded. */
export function extractionGraph(): GpuGraph {
  const cfg = vitConfig('small', { arch: 'dinov2', registers: 4, dim: 32, depth: 1, heads: 2 });
  const ig = inferenceGraph(cfg, {
    batch: 2,
    height: 56,
    width: 56,
    weights: 'initializers',
    values: initParams(cfg, 0),
    outputs: ['cls', 'patches'],
  });
  return { name: 'extract', graph: ig.graph };
}

/** Every graph checked: extraction, then each preset's training graphs, then the Standard step in mixed precision. */
export function gpuGraphs(): GpuGraph[] {
  const standard = GPU_PRESETS.find((e) => e.preset === 'standard')!;
  return [extractionGraph(), ...GPU_PRESETS.flatMap((e) => trainingGraphs(e)), ...trainingGraphs(standard, true)];
}

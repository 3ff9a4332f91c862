// Nodes and kernels of one training step (student step, teacher forward, EMA: the three runs of
// Trainer.step), counted for the train bench: nodes as we build them (after core/graph optimize), kernels as
// onnxruntime runs them (the kernel events of one profiled run, core/graph/placement.ts: after onnxruntime's
// own rewrites, host ↔ device copies included). `params` picks how the graphs hold the parameters: flat
// buffers (what the trainer runs) or one tensor each with the per-tensor AdamW (the form before).
import { serialize } from '../../core/graph/onnx.js';
import { optimize } from '../../core/graph/optimize.js';
import { measurePlacement, placementFeeds } from '../../core/graph/placement.js';
import type { Provider } from '../../core/graph/runtime.js';
import { type TrainConfig, headConfig, scratchViT } from '../../core/train/config.js';
import { fixedSizes, graphSpecs } from '../../core/train/graph-set.js';
import type { ParamLayout } from '../../core/train/model.js';
import { buildStepGraph } from '../../core/train/step.js';
import { buildEmaGraph, buildTeacherGraph } from '../../core/train/teacher.js';
import type { Graph } from '../../core/graph/graph.js';

export interface StepCounts {
  /** Per graph and in total: nodes we build, kernels one onnxruntime run launches. */
  nodes: { step: number; teacher: number; ema: number; total: number };
  kernels: { step: number; teacher: number; ema: number; total: number };
}

export async function stepCounts(
  c: TrainConfig,
  opts: { params?: ParamLayout; provider?: Provider; threads?: number } = {},
): Promise<StepCounts> {
  const vit = scratchViT(c);
  const head = headConfig(c, vit);
  const provider = opts.provider ?? 'cpu';
  const specs = graphSpecs(c, vit, head, { providers: [provider] }, fixedSizes(c, vit));
  const params = opts.params ?? 'flat';
  const step = buildStepGraph({ ...specs.step, params }).graph;
  const teacher = buildTeacherGraph({ ...specs.teacher, params });
  const ema = buildEmaGraph(vit, head, params).graph;
  const graphs: Record<'step' | 'teacher' | 'ema', Graph> = { step, teacher, ema };
  const nodes = { step: 0, teacher: 0, ema: 0, total: 0 };
  const kernels = { step: 0, teacher: 0, ema: 0, total: 0 };
  for (const [k, g] of Object.entries(graphs) as ['step' | 'teacher' | 'ema', Graph][]) {
    optimize(g);
    nodes[k] = g.nodes.length;
    const p = await measurePlacement(serialize(g), placementFeeds(g), { providers: [provider], intraOpThreads: opts.threads ?? 2 });
    kernels[k] = p.nodes.length + p.copies.length;
    nodes.total += nodes[k];
    kernels.total += kernels[k];
  }
  return { nodes, kernels };
}

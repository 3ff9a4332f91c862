// The compiled graphs of one (global, local, gram) crop-size triple: the student step (a StepRunner that
// keeps parameters and AdamW state), the teacher forward and, with Gram anchoring, the Gram teacher's
// backbone. core/graph shapes are static, so a run that draws several size triples (high-resolution
// adaptation) builds one set per triple the first time it is drawn; the trainer caches them and moves the
// state to the set a step uses (moveState).
import { LOSS_SCALE_PREFIX } from '../graph/amp.js';
import { loweringFor } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { optimize } from '../graph/optimize.js';
import { type RuntimeOptions, Session, StepRunner } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../model/config.js';
import type { StepSizes } from '../data/train/batch.js';
import { maskUpperBound } from '../data/train/masking.js';
import { DinoscopeError } from '../common/errors.js';
import { type TrainConfig, centering, gramSide } from './config.js';
import { type HeadConfig } from './heads.js';
import { copyTensor } from './initial.js';
import { modelLayouts, packModel } from './model.js';
import { type StepPrecision } from './precision.js';
import { type StepGraph, type StepSpec, buildStepGraph } from './step.js';
import { type TeacherSpec, buildBackboneGraph, buildTeacherGraph } from './teacher.js';

export interface GraphSet {
  key: string;
  sizes: StepSizes;
  /** U: the static masked-slot buffer length of these crop sizes. */
  maskSlots: number;
  student: StepRunner;
  stepGraph: StepGraph;
  teacher: Session;
  /** The Gram teacher's backbone forward on the (2B, 3, S, S) Gram crops; null without Gram anchoring. */
  gramTeacher: Session | null;
}

export const sizeKey = (s: StepSizes): string => `${s.global}/${s.local}/${s.gram}`;

/** The crop sides of a run without a size table: the config's, the Gram side from gram.scale. */
export function fixedSizes(c: TrainConfig, vit: ViTConfig): StepSizes {
  return {
    global: c.crops.globalSize,
    local: c.crops.localSize,
    gram: c.gram.enabled ? gramSide(c, c.crops.globalSize, vit.patchSize) : 0,
  };
}

/** The student step and teacher graphs' specs of one size triple (what buildGraphSet compiles; benches count them). */
export function graphSpecs(
  config: TrainConfig,
  vit: ViTConfig,
  head: HeadConfig,
  runtime: RuntimeOptions,
  sizes: StepSizes,
  precision: StepPrecision = { precision: 'fp32' },
): { step: StepSpec; teacher: TeacherSpec; maskSlots: number } {
  const B = config.batchSize;
  for (const s of [sizes.global, sizes.local, ...(sizes.gram ? [sizes.gram] : [])]) {
    if (s % vit.patchSize)
      throw new DinoscopeError(
        'BAD_INPUT',
        `Training config: crop size ${s} is not a multiple of the model's patch size ${vit.patchSize}.`,
      );
  }
  const { h, w } = patchGrid(vit, sizes.global, sizes.global);
  const maskSlots = maskUpperBound(2 * B, {
    gridH: h,
    gridW: w,
    maskProbability: config.masking.maskProbability,
    ratio: config.masking.ratio,
  });
  const step: StepSpec = {
    vit,
    head,
    batch: B,
    globalSize: sizes.global,
    localSize: sizes.local,
    localCrops: config.crops.localCrops,
    maskSlots,
    loss: config.loss,
    optim: config.optim,
    remat: config.runtime.remat,
    gram: sizes.gram ? { teacherSize: sizes.gram } : null,
    // WebGPU's op forms (GraphLowering) cost CUDA nothing, and the CPU only when it is a fallback. Mixed
    // precision is the student step's alone: the teacher, EMA and health graphs stay float32.
    lowering: { ...loweringFor(runtime.providers ?? []), ...(precision.precision === 'mixed' ? { mixedPrecision: true } : {}) },
    lossScale: precision.lossScale,
  };
  const teacher: TeacherSpec = {
    vit,
    head,
    batch: B,
    globalSize: sizes.global,
    maskSlots,
    centering: centering(config, vit),
    centerMomentum: config.teacher.centerMomentum,
    sinkhornIterations: config.teacher.sinkhornIterations,
  };
  return { step, teacher, maskSlots };
}

/** Builds and compiles the student step, teacher and Gram teacher graphs of one size triple. */
export async function buildGraphSet(
  config: TrainConfig,
  vit: ViTConfig,
  head: HeadConfig,
  runtime: RuntimeOptions,
  sizes: StepSizes,
  precision: StepPrecision = { precision: 'fp32' },
): Promise<GraphSet> {
  const specs = graphSpecs(config, vit, head, runtime, sizes, precision);
  const { maskSlots } = specs;
  const stepGraph = buildStepGraph(specs.step);
  optimize(stepGraph.graph);
  const teacherGraph = buildTeacherGraph(specs.teacher);
  optimize(teacherGraph);
  const B = config.batchSize;
  const gramGraph = sizes.gram ? buildBackboneGraph(vit, 2 * B, sizes.gram) : null;
  if (gramGraph) optimize(gramGraph);
  const [student, teacher, gramTeacher] = await Promise.all([
    StepRunner.create(serialize(stepGraph.graph), stepGraph.opt.stateMap, runtime),
    Session.create(serialize(teacherGraph), runtime),
    gramGraph ? Session.create(serialize(gramGraph), runtime) : Promise.resolve(null),
  ]);
  return { key: sizeKey(sizes), sizes, maskSlots, student, stepGraph, teacher, gramTeacher };
}

/** Moves the student state `names` (parameters, AdamW state) from `prev` to `next`. */
export async function moveState(prev: GraphSet, next: GraphSet, names: readonly string[]): Promise<void> {
  const empty = hostTensor('float32', [0]);
  for (const n of names) {
    next.student.set(n, prev.student.value(n));
    prev.student.set(n, empty); // drop the idle set's reference: one copy of the state, not one per cached set
  }
}

/**
 * Puts a run's state into the first set's student runner (parameters per tensor packed into the flat
 * buffers; AdamW state per tensor as checkpoints keep it, converted to the step graph's flat buffers, fresh
 * when `optimizer` is null) and the teacher's parameters into the EMA runner; returns the AdamW state names.
 */
export function loadState(
  set: Pick<GraphSet, 'student' | 'stepGraph'>,
  ema: StepRunner,
  state: {
    vit: ViTConfig;
    head: HeadConfig;
    student: ReadonlyMap<string, HostTensor>;
    teacher: ReadonlyMap<string, HostTensor>;
    optimizer: ReadonlyMap<string, HostTensor> | null;
  },
): string[] {
  const layouts = modelLayouts(state.vit, state.head);
  for (const [k, v] of packModel(layouts, state.student, 'Training state (student)')) set.student.set(k, v);
  for (const [k, v] of packModel(layouts, state.teacher, 'Training state (teacher)')) ema.set(k, v);
  const opt = set.stepGraph.opt;
  const fresh = opt.initialState();
  const optimizer = state.optimizer ? opt.fromPerTensor(state.optimizer) : new Map(Object.entries(fresh));
  // The loss-scale state (core/graph/amp.ts) is the mixed-precision step's alone: a run saved in the other
  // precision (resumed where 'auto' picks differently) starts it fresh, or leaves it out.
  for (const [k, v] of Object.entries(fresh)) if (k.startsWith(LOSS_SCALE_PREFIX) && !optimizer.has(k)) optimizer.set(k, v);
  for (const k of [...optimizer.keys()]) if (k.startsWith(LOSS_SCALE_PREFIX) && !(k in fresh)) optimizer.delete(k);
  for (const [k, v] of optimizer) set.student.set(k, v);
  return opt.stateNames;
}

/** Copies of `names` off `runner` (its tensors are views it overwrites at the next step). */
export async function copyValues(runner: StepRunner, names: readonly string[]): Promise<Map<string, HostTensor>> {
  const values = new Map<string, HostTensor>();
  for (const n of names) values.set(n, copyTensor(await runner.get(n)));
  return values;
}

/** Every session of a set, to release. */
export function setSessions(s: GraphSet): Session[] {
  return [s.student.session, s.teacher, ...(s.gramTeacher ? [s.gramTeacher] : [])];
}

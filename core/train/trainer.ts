// The Trainer the job host and the CLI drive: builds the three graphs (student step, teacher forward, EMA),
// keeps parameters and optimiser state in their runners between steps, and runs one DINO + iBOT + KoLeo
// step per `step()`, in the recipe's order (step() reads as it):
//   1. schedule values for this step (schedule.ts, re-planned by schedule-plan.ts)
//   2. the next batch (2B global + nLocal·B local crops, masks) from the BatchSource (core/data/train)
//   3. teacher forward on the unmasked globals → targets (+ new centers, entropy, CLS for the rank)
//   4. student step graph: forward, losses, backward, clipping, AdamW (one onnxruntime run)
//   5. EMA graph: teacher ← m·teacher + (1 − m)·student, fed by the student runner's state tensors
// Each graph's per-step values are declared where it is built (STEP_IO in step.ts, TEACHER_IO and EMA_IO in
// teacher.ts) and fed and read through those descriptors. The state tensors pass from runner to runner
// where they live (StepRunner.value): without copies on the CPU, without leaving the device on WebGPU.
// Gram anchoring (DINOv3 high-resolution adaptation): a frozen Gram teacher (the starting model, or a copy of
// the EMA teacher refreshed on the schedule) runs on the batch's Gram crops; its patch tokens and the
// scheduled weight are inputs of the student step (gram/teacher-step.ts). High-resolution adaptation draws
// one (global, local, gram) size triple per step; one graph set per triple is built on first use and cached
// (graph-set.ts). Dense-feature health (health/monitor.ts) runs the EMA teacher on fixed probe tiles every
// `health.every` steps, at the first and at the last step.
import { serialize } from '../graph/onnx.js';
import { DinoscopeError } from '../common/errors.js';
import type { TrainHardware } from '../common/api.js';
import { type Feed, type RuntimeOptions, StepRunner } from '../graph/runtime.js';
import { type HostTensor } from '../graph/tensor.js';
import { type ViTConfig } from '../model/config.js';
import { fromGraphLayout } from '../model/params.js';
import { inspectWeights } from '../model/weights/import.js';
import type { Project } from '../project/project.js';
import { projectRunData } from './data.js';
import type { StepSizes, TrainBatch } from '../data/train/batch.js';
import { type TrainConfig, revisedConfig, scratchViT, withSteps } from './config.js';
import { type CheckpointContents, type GramTeacherState, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { StepSizeSchedule } from './adapt-sizes.js';
import { gramCopyDue, gramInputs } from './gram/teacher-step.js';
import { type GraphSet, buildGraphSet, copyValues, fixedSizes, loadState, moveState, setSessions, sizeKey } from './graph-set.js';
import { type HealthEntry } from './health/monitor.js';
import { RunHealth } from './health/run-health.js';
import { type HeadConfig } from './heads.js';
import { trainRuntime } from './device.js';
import { type LossScaleOptions } from '../graph/amp.js';
import { type Precision, type StepPrecision } from './precision.js';
import { type InitialState, backboneCopy, newRunState } from './initial.js';
import { MODEL_PARTS, flatName, modelLayouts, unpackModel } from './model.js';
import { plannedScheduleAt } from './schedule-plan.js';
import { batchSizes, batchTensors, ropeDraws, studentFeeds } from './step-batch.js';
import { type StepReport, stepReport } from './step-report.js';
import { type Centers, nextCenters, runTeacher, updateEma } from './step-teacher.js';
import { STEP_IO } from './step.js';
import { buildEmaGraph } from './teacher.js';

/** Where batches come from: core/data/train's Prefetcher, or anything yielding batches in step order. */
export interface BatchSource {
  next(): Promise<TrainBatch>;
  /** Called by Trainer.close() (the Prefetcher stops its workers). */
  close?(): Promise<void>;
}

/** What step() returns (step-report.ts). */
export type { StepReport } from './step-report.js';

export interface TrainerOptions {
  /** Runtime options for the sessions (providers from config runtime.device and threads from the config unless given here). */
  runtime?: RuntimeOptions;
  /** The hardware probe runtime.device is resolved against (tests may pass a finished one). */
  probe?: () => Promise<TrainHardware>;
  /** Start-up lines: the device the run uses, or the warning when the one asked for is not available. */
  log?: (line: string) => void;
  /** The per-step size schedule the batch source draws from (its state is checkpointed). */
  sizes?: StepSizeSchedule;
  /** The precision to train in, instead of the config's runtime.precision resolved for the device (tests, benches). */
  precision?: Precision;
  /** Mixed precision's loss scaling instead of GradScaler's defaults (core/graph/amp.ts; tests). */
  lossScale?: LossScaleOptions;
}

/** A project trainer's start-up reports: log lines, and what it is doing (start-up takes seconds to minutes). */
export interface ProjectTrainerHooks {
  log?: (line: string) => void;
  phase?: (what: string) => void;
}

export class Trainer {
  private stepIndex: number;
  private centers: Centers | null;
  private current: GraphSet;
  private readonly sets = new Map<string, GraphSet>();
  private gram: GramTeacherState | null;
  /** Where each parameter tensor sits in the flat buffers. */
  private readonly layouts: ReturnType<typeof modelLayouts>;

  private cfg: TrainConfig;

  /** The run's config, deeply frozen; replaced as a whole (setTotalSteps, revise), never changed in place. */
  get config(): TrainConfig {
    return this.cfg;
  }

  private constructor(
    config: TrainConfig,
    readonly vit: ViTConfig,
    readonly head: HeadConfig,
    private readonly data: BatchSource,
    private readonly runtime: RuntimeOptions,
    first: GraphSet,
    private readonly ema: StepRunner,
    private readonly names: string[],
    private readonly optNames: string[],
    private readonly sizes: StepSizeSchedule | null,
    private readonly health: RunHealth,
    init: InitialState,
    /** What the student step trains in (config runtime.precision resolved for the device). */
    private readonly stepPrecision: StepPrecision,
  ) {
    this.cfg = config;
    this.stepIndex = init.step;
    this.centers = init.centers;
    this.current = first;
    this.sets.set(first.key, first);
    this.gram = init.gram ?? null;
    this.layouts = modelLayouts(vit, head);
  }

  /** A new run: from scratch (seeded init) or from imported weights (config.model.from); teacher = student. */
  static async create(config: TrainConfig, data: BatchSource, opts: TrainerOptions = {}): Promise<Trainer> {
    refuseCapi(config); // before the seconds of a new run's init
    return Trainer.build(config, data, opts, await newRunState(config));
  }

  /** A new run on a project's images: crop workers start at step 0 and are closed with the trainer. */
  static async forProject(config: TrainConfig, project: Project, opts: TrainerOptions & ProjectTrainerHooks = {}): Promise<Trainer> {
    refuseCapi(config);
    opts.phase?.('loading the images');
    const patch = config.model.from ? (await inspectWeights(config.model.from)).config.patchSize : scratchViT(config).patchSize;
    const { data, sizes } = await projectRunData(config, patch, project, { step: 0 }, opts.log);
    opts.phase?.('building the training graph');
    return closingOnError(data, Trainer.create(config, data, { ...opts, sizes }));
  }

  /** Resumes the run in checkpoint `dir` on a project's images, from the checkpoint's step. */
  static async resumeProject(dir: string, project: Project, opts: TrainerOptions & ProjectTrainerHooks = {}): Promise<Trainer> {
    opts.phase?.('loading the checkpoint and the images');
    const c = await readCheckpoint(dir);
    const { data, sizes } = await projectRunData(c.config, c.vit.patchSize, project, c, opts.log);
    opts.phase?.('building the training graph');
    return closingOnError(data, Trainer.build(c.config, data, { ...opts, sizes }, c));
  }

  /** Continues the run saved in `dir`; `data` must yield the batches from step `checkpointStep(dir)` on. */
  static async resume(dir: string, data: BatchSource, opts: TrainerOptions = {}): Promise<Trainer> {
    const c = await readCheckpoint(dir);
    return Trainer.build(c.config, data, opts, c);
  }

  private static async build(config: TrainConfig, data: BatchSource, opts: TrainerOptions, init: InitialState): Promise<Trainer> {
    refuseCapi(config);
    const { vit, head } = init;
    const { runtime, device, precision } = await trainRuntime(config, opts.runtime, opts.probe, opts.precision);
    opts.log?.(device.line);
    opts.log?.(precision.line);
    const stepPrecision: StepPrecision = { precision: precision.precision, ...(opts.lossScale ? { lossScale: opts.lossScale } : {}) };
    const sizes = opts.sizes ?? null;
    const emaGraph = buildEmaGraph(vit, head);
    const [first, ema] = await Promise.all([
      buildGraphSet(config, vit, head, runtime, sizes ? sizes.at(init.step) : fixedSizes(config, vit), stepPrecision),
      StepRunner.create(serialize(emaGraph.graph), emaGraph.stateMap, runtime),
    ]);
    const names = MODEL_PARTS.map(flatName); // the runners' parameter state: one flat buffer per part (model.ts)
    const optNames = loadState(first, ema, init);
    const health = await RunHealth.create(config, vit, runtime, init.health);
    return new Trainer(config, vit, head, data, runtime, first, ema, names, optNames, sizes, health, init, stepPrecision);
  }

  /** Fixes the run's length (the horizon of every schedule), as a minutes budget does once the first steps
   * are timed: the config becomes a new frozen one with `steps` (checked), and checkpoints save that one. */
  setTotalSteps(steps: number): void {
    this.cfg = withSteps(this.cfg, steps);
  }

  /** Replaces the config by a re-planned one (schedule-plan.ts: a budget re-estimate or an extension), checked and frozen. */
  revise(next: TrainConfig): void {
    this.cfg = revisedConfig(next);
  }

  /** What the student step trains in: config runtime.precision resolved for the device. */
  get precision(): Precision {
    return this.stepPrecision.precision;
  }

  /** Steps completed so far (the schedule position; the next step's index). */
  get completedSteps(): number {
    return this.stepIndex;
  }

  /** One training step. */
  async step(): Promise<StepReport> {
    const t0 = performance.now();
    const c = this.config;
    const it = this.stepIndex;
    const v = plannedScheduleAt(c, it); // 1. schedule values (re-planned by schedule-plan.ts)
    const batch = await this.data.next(); // 2. batch
    const sizes = batchSizes(batch, it, c);
    const set = await this.useSet(sizes);
    const inputs = batchTensors(batch, c, sizes, set.maskSlots, this.vit.inChans);
    await this.beforeStep(batch, sizes, it);
    const param = (n: string): Feed => this.ema.value(n); // where it lives: no copy, no download
    const t = await runTeacher(set.teacher, inputs, v.teacherTemp, this.centers, this.names, param); // 3. teacher
    const gram = set.gramTeacher
      ? await gramInputs(set.gramTeacher, {
          config: c,
          vit: this.vit,
          side: sizes.gram,
          crops: batch.crops.gram,
          teacher: this.gram,
          step: it,
        })
      : null;
    const rope = set.stepGraph.ropeAug ? ropeDraws(this.vit, c.seed, it, c.crops.localCrops > 0) : null;
    const out = await set.student.step(STEP_IO.feeds(studentFeeds(inputs, t, v, rope, gram))); // 4. student step
    await updateEma(this.ema, set.student, this.names, v.momentum); // 5. EMA
    if (this.centers) this.centers = nextCenters(t);
    this.stepIndex++;
    this.sizes?.forget(this.stepIndex);
    const report = stepReport({
      step: this.stepIndex,
      student: STEP_IO.read(out),
      teacher: t,
      schedule: v,
      sizes,
      ...(gram ? { gram: { weight: gram.weight, active: this.gram !== null } } : {}),
      batch: c.batchSize,
      prototypes: this.head.prototypes,
      ms: performance.now() - t0,
    });
    if (this.health.due(this.stepIndex, this.config.steps)) report.health = (await this.measureHealth()) ?? undefined;
    return report;
  }

  /** Before the graphs of step `it` run: the health probe tiles from a run's first batch, the Gram teacher copied when due. */
  private async beforeStep(batch: TrainBatch, sizes: StepSizes, it: number): Promise<void> {
    await this.health.start(batch.crops.global, sizes.global);
    if (!gramCopyDue(this.config, it, this.gram)) return;
    this.gram = { params: backboneCopy(await this.teacherTensors()), source: 'ema', copiedAt: it };
  }

  /** The graph set of `sizes`, built on first use; parameters and optimiser state move to it. */
  private async useSet(sizes: StepSizes): Promise<GraphSet> {
    const key = sizeKey(sizes);
    if (key === this.current.key) return this.current;
    let next = this.sets.get(key);
    if (!next) {
      next = await buildGraphSet(this.config, this.vit, this.head, this.runtime, sizes, this.stepPrecision);
      this.sets.set(key, next);
    }
    await moveState(this.current, next, [...this.names, ...this.optNames]);
    this.current = next;
    return next;
  }

  /** Measures dense-feature health now (e.g. at a stop); null before the probe tiles exist or with health off. */
  async measureHealth(): Promise<HealthEntry | null> {
    let teacher: Promise<Map<string, HostTensor>> | null = null; // read off the EMA runner once, when the monitor asks
    return this.health.measure(this.stepIndex, async (n) => {
      const t = (await (teacher ??= this.teacherTensors())).get(n);
      if (!t) throw new Error(`Trainer: the teacher has no parameter ${n}`);
      return t;
    });
  }

  /** The EMA teacher's parameters per tensor (graph names and layout), copied off its flat buffers. */
  private async teacherTensors(): Promise<Map<string, HostTensor>> {
    return unpackModel(this.layouts, await copyValues(this.ema, this.names));
  }

  /** The health measurements of the run so far (across resumes). */
  get healthLog(): readonly HealthEntry[] {
    return this.health.log;
  }

  /** Everything a checkpoint holds, copied off the runners. */
  async state(): Promise<CheckpointContents> {
    const student = unpackModel(this.layouts, await copyValues(this.current.student, this.names)); // per tensor, as checkpoints keep it
    const teacher = await this.teacherTensors();
    const optimizer = this.current.stepGraph.opt.perTensor(await copyValues(this.current.student, this.optNames)); // as checkpoints keep it
    return {
      step: this.stepIndex,
      config: this.config,
      vit: this.vit,
      head: this.head,
      student,
      teacher,
      optimizer,
      centers: this.centers,
      rng: { kind: 'seeded-by-step', seed: this.config.seed, step: this.stepIndex },
      gram: this.gram,
      sizes: this.sizes ? this.sizes.stateAt(this.stepIndex) : null,
      health: this.health.saved(),
    };
  }

  /** Writes an atomic checkpoint folder `dir`. */
  async checkpoint(dir: string): Promise<void> {
    await writeCheckpoint(dir, await this.state());
  }

  /** The teacher's backbone in PyTorch layout (canonical names): the model a run produces. */
  async teacherBackbone(): Promise<Map<string, HostTensor>> {
    const s = await this.state();
    return new Map([...s.teacher].filter(([k]) => !k.includes('_head/')).map(([k, t]) => [k, fromGraphLayout(k, t, this.vit.inChans)]));
  }

  async close(): Promise<void> {
    const sessions = [...this.sets.values()].flatMap(setSessions);
    await Promise.all([...sessions.map((s) => s.release()), this.ema.session.release(), this.health.release(), this.data.close?.()]);
  }
}

/** A CAPI config is refused in plain words: its trainer (core/train/capi) is not wired into the runs of the job host and the CLI yet. */
function refuseCapi(config: TrainConfig): void {
  if (config.objective === 'capi')
    throw new DinoscopeError(
      'BAD_INPUT',
      'Training config: objective capi is not available in the Train panel or dinoscope pretrain yet (its trainer is core/train/capi CapiTrainer); use objective dino.',
    );
}

/** `trainer`, or its error after the batch source it would have closed is closed. */
async function closingOnError(data: BatchSource, trainer: Promise<Trainer>): Promise<Trainer> {
  return trainer.catch(async (e: unknown) => {
    await data.close?.();
    throw e;
  });
}

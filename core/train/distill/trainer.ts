// DINOv3 distillation (recipe §7; dinov3/train/ssl_meta_arch.py in distillation mode, multidist_meta_arch.py for
// several students): one step =
//   1. schedule values (the run's shared plan: lr, wd, the students' EMA momentum; τ_t 0.07 throughout)
//   2. the batch: 2B global + nLocal·B local crops; the masking generator's slots are the iBOT positions
//   3. the frozen teacher's forward ONCE on the unmasked globals: DINO targets of its CLS and iBOT targets of its
//      patch tokens at those positions, Sinkhorn-Knopp (teacher.ts buildTeacherGraph with the teacher's ViT)
//   4. per student: the pretraining step graph (step.ts) on UNMASKED crops (its masks fed all false: the
//      recipe's students see whole crops, iBOT at the sampled positions is patch distillation), DINO + iBOT +
//      KoLeo against the shared targets, backward, clipping, AdamW
//   5. per student: its EMA (teacher.ts buildEmaGraph on the student's ViT) — the weights a run saves.
// The teacher never changes: its parameters are packed once and fed to its session every step.
import { serialize } from '../../graph/onnx.js';
import { optimize } from '../../graph/optimize.js';
import { type RuntimeOptions, Session, StepRunner } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig } from '../../model/config.js';
import { fromGraphLayout, initParams, toGraphLayout } from '../../model/params.js';
import type { TrainBatch } from '../../data/train/batch.js';
import type { TrainHardware } from '../../common/api.js';
import { type CheckpointContents } from '../checkpoint.js';
import { type TrainConfig, headConfig, revisedConfig, withSteps } from '../config.js';
import { trainRuntime } from '../device.js';
import { copyValues, fixedSizes, graphSpecs, loadState } from '../graph-set.js';
import { type HealthEntry } from '../health/monitor.js';
import { RunHealth } from '../health/run-health.js';
import { type HeadConfig, headLayout, initHeadParams } from '../heads.js';
import { copyTensor } from '../initial.js';
import { HEADS, MODEL_PARTS, flatName, modelLayouts, packModel, unpackModel } from '../model.js';
import { type Precision, type StepPrecision } from '../precision.js';
import { plannedScheduleAt } from '../schedule-plan.js';
import { batchSizes, batchTensors, ropeDraws, scalar, studentFeeds } from '../step-batch.js';
import { type StepReport, stepReport } from '../step-report.js';
import { runTeacher, updateEma } from '../step-teacher.js';
import { STEP_IO, type StepGraph, buildStepGraph } from '../step.js';
import { buildEmaGraph, buildTeacherGraph } from '../teacher.js';
import { type BatchSource } from '../trainer.js';
import { STUDENT_SIZES, type StudentSpec, studentViT } from './config.js';
import { type DistillTeacher } from './teacher.js';
import { writeDistillCheckpoint } from './checkpoint.js';
import { type TeacherProjection, fitTeacherProjection } from './feature-loss.js';
import { DinoscopeError } from '../../common/errors.js';

/** One student's state to start from: a new student's (seeded init) or a checkpoint's. */
export interface StudentState {
  name: string;
  vit: ViTConfig;
  head: HeadConfig;
  /** Graph names, graph layout: the trained weights and their EMA. */
  student: Map<string, HostTensor>;
  ema: Map<string, HostTensor>;
  optimizer: Map<string, HostTensor> | null;
  /** The feature-regression projection (a checkpoint's; absent: fitted on the first step run). */
  projection?: TeacherProjection | null;
}

/** A distillation step's report: the first student's as a pretraining step reports it (the run loop, charts),
 * and every student's losses and gradient norms. */
export interface DistillStepReport extends StepReport {
  /** Each student's losses, gradient norms and the milliseconds of its step and EMA update. */
  students: { name: string; losses: StepReport['losses']; gradNorms: Record<string, number>; ms: number }[];
  /** Milliseconds of the teacher forward (once for all students). */
  teacherMs: number;
}

interface Student {
  name: string;
  vit: ViTConfig;
  head: HeadConfig;
  runner: StepRunner;
  stepGraph: StepGraph;
  ema: StepRunner;
  optNames: string[];
  layouts: ReturnType<typeof modelLayouts>;
  /** The feature-regression projection of the teacher's tokens (loss.featureDistil), fitted on the first step. */
  projection: TeacherProjection | null;
}

export interface DistillTrainerOptions {
  runtime?: RuntimeOptions;
  probe?: () => Promise<TrainHardware>;
  log?: (line: string) => void;
  precision?: Precision;
  /** Health history and probe tiles of the first student (a checkpoint's). */
  health?: { tiles: HostTensor; history: HealthEntry[] } | null;
}

/** A new student: seeded backbone and heads (seed + 1000·(size's rank + 1): a student starts the same alone or
 * beside others), its EMA a copy; K = the teacher's prototypes. */
export function newStudentState(config: TrainConfig, teacher: DistillTeacher, spec: StudentSpec): StudentState {
  const vit = studentViT(teacher.vit, spec);
  const head = { ...headConfig(config, vit), prototypes: teacher.head.prototypes };
  const seed = config.seed + 1000 * (STUDENT_SIZES.indexOf(spec.size) + 1);
  const student = new Map<string, HostTensor>();
  for (const [k, t] of Object.entries(initParams(vit, seed))) student.set(k, toGraphLayout(k, t));
  HEADS.forEach((h, i) => {
    for (const [k, t] of Object.entries(initHeadParams(head, vit.dim, seed + 1 + i))) student.set(`${h}/${k}`, headLayout(t));
  });
  return { name: spec.size, vit, head, student, ema: new Map([...student].map(([k, t]) => [k, copyTensor(t)])), optimizer: null };
}

/** A projection as the step graph's `feature/mean` and `feature/projection` inputs. */
const projectionFeeds = (p: TeacherProjection): { featureMean: HostTensor; featureProjection: HostTensor } => ({
  featureMean: hostTensor('float32', [p.teacherDim], p.mean),
  featureProjection: hostTensor('float32', [p.teacherDim, p.studentDim], p.projection),
});

export class DistillTrainer {
  private stepIndex: number;
  private cfg: TrainConfig;
  private readonly names = MODEL_PARTS.map(flatName);
  private readonly teacherFeeds: Map<string, HostTensor>;

  private constructor(
    config: TrainConfig,
    step: number,
    readonly teacher: DistillTeacher,
    private readonly teacherSession: Session,
    private readonly maskSlots: number,
    private readonly students: Student[],
    private readonly data: BatchSource,
    private readonly health: RunHealth,
    private readonly stepPrecision: StepPrecision,
  ) {
    this.cfg = config;
    this.stepIndex = step;
    this.teacherFeeds = packModel(modelLayouts(teacher.vit, teacher.head), teacher.params, 'Distillation teacher');
  }

  /** Builds the teacher forward and every student's step and EMA graphs; `step` is the next step to run. */
  static async create(
    config: TrainConfig,
    teacher: DistillTeacher,
    states: StudentState[],
    data: BatchSource,
    step: number,
    opts: DistillTrainerOptions = {},
  ): Promise<DistillTrainer> {
    if (!states.length) throw new Error('DistillTrainer: no students');
    const { runtime, device, precision } = await trainRuntime(config, opts.runtime, opts.probe, opts.precision);
    opts.log?.(device.line);
    opts.log?.(precision.line);
    opts.log?.(teacher.line);
    const stepPrecision: StepPrecision = { precision: precision.precision };
    const sizes = fixedSizes(config, teacher.vit);
    const tSpec = graphSpecs(config, teacher.vit, teacher.head, runtime, sizes, stepPrecision);
    // The patch-similarity term (loss.patchSim > 0) and the feature regression (loss.featureDistil > 0) compare
    // the students' patch tokens with the teacher's on the same unmasked global crops: the teacher also outputs
    // them, each student's step takes them in the Gram teacher's place (same grid, the teacher's width).
    const patchSim = config.loss.patchSim > 0;
    const feature = config.loss.featureDistil > 0;
    if (patchSim && feature)
      throw new DinoscopeError(
        'BAD_INPUT',
        'Distillation: loss.patchSim and loss.featureDistil are two forms of one term; set one of them.',
      );
    const teacherGraph = buildTeacherGraph({ ...tSpec.teacher, centering: 'sinkhorn', patches: patchSim || feature });
    optimize(teacherGraph);
    const teacherSession = await Session.create(serialize(teacherGraph), runtime);
    const students: Student[] = [];
    for (const s of states) {
      if (s.head.prototypes !== teacher.head.prototypes)
        throw new Error(`DistillTrainer: student ${s.name} has K ${s.head.prototypes}, the teacher ${teacher.head.prototypes}`);
      if (s.vit.patchSize !== teacher.vit.patchSize)
        throw new Error(`DistillTrainer: student ${s.name} has patch ${s.vit.patchSize}, the teacher ${teacher.vit.patchSize}`);
      const spec = graphSpecs(config, s.vit, s.head, runtime, sizes, stepPrecision);
      if (spec.maskSlots !== tSpec.maskSlots) throw new Error('DistillTrainer: the students and the teacher disagree on the slot count');
      const stepGraph = buildStepGraph({
        ...spec.step,
        gram: patchSim || feature ? { teacherSize: sizes.global, teacherDim: teacher.vit.dim, loss: feature ? 'feature' : 'gram' } : null,
      });
      optimize(stepGraph.graph);
      const emaGraph = buildEmaGraph(s.vit, s.head);
      const [runner, ema] = await Promise.all([
        StepRunner.create(serialize(stepGraph.graph), stepGraph.opt.stateMap, runtime),
        StepRunner.create(serialize(emaGraph.graph), emaGraph.stateMap, runtime),
      ]);
      const optNames = loadState({ student: runner, stepGraph }, ema, {
        vit: s.vit,
        head: s.head,
        student: s.student,
        teacher: s.ema,
        optimizer: s.optimizer,
      });
      students.push({
        name: s.name,
        vit: s.vit,
        head: s.head,
        runner,
        stepGraph,
        ema,
        optNames,
        layouts: modelLayouts(s.vit, s.head),
        projection: s.projection ?? null,
      });
    }
    const health = await RunHealth.create(config, states[0].vit, runtime, opts.health);
    return new DistillTrainer(config, step, teacher, teacherSession, tSpec.maskSlots, students, data, health, stepPrecision);
  }

  get config(): TrainConfig {
    return this.cfg;
  }

  /** What the run loop's log lines start with. */
  get label(): string {
    return 'distil';
  }

  get precision(): Precision {
    return this.stepPrecision.precision;
  }

  get completedSteps(): number {
    return this.stepIndex;
  }

  /** The students' names and ViTs, in order. */
  get studentList(): { name: string; vit: ViTConfig }[] {
    return this.students.map((s) => ({ name: s.name, vit: s.vit }));
  }

  setTotalSteps(steps: number): void {
    this.cfg = withSteps(this.cfg, steps);
  }

  revise(next: TrainConfig): void {
    this.cfg = revisedConfig(next);
  }

  async step(): Promise<DistillStepReport> {
    const t0 = performance.now();
    const c = this.config;
    const it = this.stepIndex;
    const v = plannedScheduleAt(c, it); // 1
    const batch: TrainBatch = await this.data.next(); // 2
    const sizes = batchSizes(batch, it, c);
    const inputs = batchTensors(batch, c, sizes, this.maskSlots);
    await this.health.start(batch.crops.global, sizes.global);
    const tf = this.teacherFeeds;
    const tt = performance.now();
    const t = await runTeacher(this.teacherSession, inputs, v.teacherTemp, null, this.names, (n) => tf.get(n)!); // 3: once for all students
    const teacherMs = performance.now() - tt;
    // The students see whole crops: every mask off; the masked slots stay the iBOT positions.
    const unmasked = { ...inputs, masks: hostTensor('bool', inputs.masks.dims, new Uint8Array(inputs.masks.data.length)) };
    const reports: { name: string; report: StepReport; ms: number }[] = [];
    // The teacher-token term (patch similarity or feature regression): the teacher's tokens and the term's weight.
    const feature = c.loss.featureDistil > 0;
    const weight = feature ? c.loss.featureDistil : c.loss.patchSim;
    const tokens = t.patches ? { gramTeacher: t.patches, gramWeight: scalar(weight) } : null;
    for (const s of this.students) {
      const ts = performance.now();
      if (feature && t.patches) s.projection ??= fitTeacherProjection(t.patches, s.vit.dim); // once, on the first step
      const projection = s.projection ? projectionFeeds(s.projection) : {};
      const rope = s.stepGraph.ropeAug ? ropeDraws(s.vit, c.seed, it, c.crops.localCrops > 0) : null;
      const out = await s.runner.step(STEP_IO.feeds({ ...studentFeeds(unmasked, t, v, rope, tokens), ...projection })); // 4
      await updateEma(s.ema, s.runner, this.names, v.momentum); // 5
      reports.push({
        name: s.name,
        ms: performance.now() - ts,
        report: stepReport({
          step: it + 1,
          student: STEP_IO.read(out),
          teacher: t,
          schedule: v,
          sizes,
          batch: c.batchSize,
          prototypes: this.teacher.head.prototypes,
          ms: performance.now() - t0,
          ...(tokens ? { gram: { weight, active: true } } : {}),
        }),
      });
    }
    this.stepIndex++;
    const first = reports[0].report;
    const nan = reports.some((r) => r.report.signals.nan);
    const report: DistillStepReport = {
      ...first,
      imagesPerSec: (c.batchSize * 1000) / (performance.now() - t0),
      signals: { ...first.signals, nan },
      students: reports.map((r) => ({ name: r.name, losses: r.report.losses, gradNorms: r.report.gradNorms, ms: r.ms })),
      teacherMs,
    };
    if (this.health.due(this.stepIndex, this.config.steps)) report.health = (await this.measureHealth()) ?? undefined;
    return report;
  }

  /** Dense-feature health of the first student's EMA on the probe tiles. */
  async measureHealth(): Promise<HealthEntry | null> {
    let ema: Promise<Map<string, HostTensor>> | null = null;
    return this.health.measure(this.stepIndex, async (n) => {
      const t = (await (ema ??= this.emaTensors(this.students[0]))).get(n);
      if (!t) throw new Error(`DistillTrainer: the student has no parameter ${n}`);
      return t;
    });
  }

  get healthLog(): readonly HealthEntry[] {
    return this.health.log;
  }

  private async emaTensors(s: Student): Promise<Map<string, HostTensor>> {
    return unpackModel(s.layouts, await copyValues(s.ema, this.names));
  }

  /** Every student's checkpoint contents (the EMA as the checkpoint's teacher: the weights the model keeps). */
  async states(): Promise<{ name: string; contents: CheckpointContents }[]> {
    const out: { name: string; contents: CheckpointContents }[] = [];
    for (const [i, s] of this.students.entries()) {
      out.push({
        name: s.name,
        contents: {
          step: this.stepIndex,
          config: this.config,
          vit: s.vit,
          head: s.head,
          student: unpackModel(s.layouts, await copyValues(s.runner, this.names)),
          teacher: await this.emaTensors(s),
          optimizer: s.stepGraph.opt.perTensor(await copyValues(s.runner, s.optNames)),
          centers: null,
          rng: { kind: 'seeded-by-step', seed: this.config.seed, step: this.stepIndex },
          gram: null,
          sizes: null,
          health: i === 0 ? this.health.saved() : null,
        },
      });
    }
    return out;
  }

  /** Each student's feature-regression projection (null before the first step, or with loss.featureDistil 0). */
  get projections(): { name: string; projection: TeacherProjection | null }[] {
    return this.students.map((s) => ({ name: s.name, projection: s.projection }));
  }

  /** Writes an atomic checkpoint folder `dir` (every student at this step: checkpoint.ts). */
  async checkpoint(dir: string): Promise<void> {
    await writeDistillCheckpoint(dir, this);
  }

  /** A student's EMA backbone in PyTorch layout (canonical names): the model the run registers for it. */
  async studentBackbone(name: string): Promise<Map<string, HostTensor>> {
    const s = this.students.find((x) => x.name === name);
    if (!s) throw new Error(`DistillTrainer: no student ${name}`);
    const ema = await this.emaTensors(s);
    return new Map([...ema].filter(([k]) => !k.includes('_head/')).map(([k, t]) => [k, fromGraphLayout(k, t, s.vit.inChans)]));
  }

  async close(): Promise<void> {
    await Promise.all([
      this.teacherSession.release(),
      ...this.students.flatMap((s) => [s.runner.session.release(), s.ema.session.release()]),
      this.health.release(),
      this.data.close?.(),
    ]);
  }
}

// The Trainer the job host and the CLI drive (issue 5 items 2–4): builds the three graphs (student step,
// teacher forward, EMA), keeps parameters and optimiser state in their runners between steps, and runs
// one DINO + iBOT + KoLeo step per `step()`:
//   1. schedule values for this step (schedule.ts)
//   2. the next batch (2B global + nLocal·B local crops, masks) from the BatchSource (core/data/train)
//   3. teacher forward on the unmasked globals → targets (+ new centers, entropy, CLS for the rank)
//   4. student step graph: forward, losses, backward, clipping, AdamW (one onnxruntime run)
//   5. EMA graph: teacher ← m·teacher + (1 − m)·student, fed by the student runner's state tensors
// On CPU the state tensors pass from runner to runner without copies (StepRunner.get returns views).
import { optimize } from '../graph/optimize.js';
import { serialize } from '../graph/onnx.js';
import { type Provider, type RuntimeOptions, Session, StepRunner } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../model/config.js';
import { Rng, fromGraphLayout, initParams, toGraphLayout } from '../model/params.js';
import { sampleRopeAug } from '../model/rope.js';
import { inspectWeights, loadWeights } from '../model/weights/import.js';
import type { Project } from '../project/project.js';
import { projectBatches } from './data.js';
import type { TrainBatch } from '../data/train/batch.js';
import { maskUpperBound } from '../data/train/masking.js';
import { DinoscopeError } from '../common/errors.js';
import { type TrainConfig, centering, headConfig, scratchViT } from './config.js';
import { type CheckpointContents, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { type HeadConfig, headLayout, initHeadParams } from './heads.js';
import { HEADS, modelParamShapes } from './model.js';
import { scheduleAt } from './schedule.js';
import { effectiveRank } from './signals.js';
import { STEP_INPUTS, type StepGraph, buildStepGraph } from './step.js';
import { TEACHER_INPUTS, buildEmaGraph, buildTeacherGraph } from './teacher.js';

/** Where batches come from: core/data/train's Prefetcher, or anything yielding batches in step order. */
export interface BatchSource {
  next(): Promise<TrainBatch>;
  /** Called by Trainer.close() (the Prefetcher stops its workers). */
  close?(): Promise<void>;
}

export interface StepReport {
  /** Steps completed after this one (1 after the first step). */
  step: number;
  losses: { dino: number; ibot: number; koleo: number; total: number };
  lr: number;
  wd: number;
  teacherTemp: number;
  momentum: number;
  /** Tiles (each 2 global + nLocal local crops) per second over this step, batch wait included. */
  imagesPerSec: number;
  /** Pre-clipping gradient norms per submodule. */
  gradNorms: Record<string, number>;
  signals: {
    /** Mean entropy (nats) of the teacher's DINO targets; collapse drives it to 0 (one prototype) or ln K (uniform). */
    teacherEntropy: number;
    /** Effective rank of the teacher's CLS features on the batch (≤ 2B − 1). */
    featureRank: number;
    /** Some loss or gradient norm is NaN or infinite. */
    nan: boolean;
  };
}

export interface TrainerOptions {
  /** Runtime options for the three sessions (threads come from the config unless given here). */
  runtime?: RuntimeOptions;
}

interface Initial {
  step: number;
  vit: ViTConfig;
  head: HeadConfig;
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor>;
  optimizer: Map<string, HostTensor> | null;
  centers: { dino: HostTensor; ibot: HostTensor } | null;
}

export class Trainer {
  private stepIndex: number;
  private centers: { dino: HostTensor; ibot: HostTensor } | null;

  private constructor(
    readonly config: TrainConfig,
    readonly vit: ViTConfig,
    readonly head: HeadConfig,
    private readonly data: BatchSource,
    private readonly student: StepRunner,
    private readonly stepGraph: StepGraph,
    private readonly teacher: Session,
    private readonly ema: StepRunner,
    private readonly names: string[],
    private readonly maskSlots: number,
    init: Initial,
  ) {
    this.stepIndex = init.step;
    this.centers = init.centers;
  }

  /** A new run: from scratch (seeded init) or from imported weights (config.model.from); teacher = student. */
  static async create(config: TrainConfig, data: BatchSource, opts: TrainerOptions = {}): Promise<Trainer> {
    let vit: ViTConfig;
    let backbone: Record<string, HostTensor>;
    if (config.model.from) {
      const w = await loadWeights(config.model.from);
      vit = { ...w.config, layerScale: { ...w.config.layerScale } };
      backbone = {};
      for (const [k, t] of w.tensors) backbone[k] = hostTensor('float32', t.shape, t.data);
      for (const s of [config.crops.globalSize, config.crops.localSize]) {
        if (s % vit.patchSize) throw new DinoscopeError('BAD_INPUT', `${config.model.from}: crop size ${s} is not a multiple of the model's patch size ${vit.patchSize}.`);
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
    const teacher = new Map([...student].map(([k, t]) => [k, hostTensor('float32', t.dims, Float32Array.from(t.data as Float32Array))]));
    const K = head.prototypes;
    const centers = centering(config, vit) === 'ema' ? { dino: hostTensor('float32', [1, K]), ibot: hostTensor('float32', [1, K]) } : null;
    return Trainer.build(config, data, opts, { step: 0, vit, head, student, teacher, optimizer: null, centers });
  }

  /** A new run on a project's images: crop workers start at step 0 and are closed with the trainer. */
  static async forProject(config: TrainConfig, project: Project, opts: TrainerOptions & { log?: (line: string) => void } = {}): Promise<Trainer> {
    const patch = config.model.from ? (await inspectWeights(config.model.from)).config.patchSize : scratchViT(config).patchSize;
    const data = await projectBatches(config, patch, project, 0, opts.log);
    return Trainer.create(config, data, opts).catch(async (e: unknown) => {
      await data.close();
      throw e;
    });
  }

  /** Resumes the run in checkpoint `dir` on a project's images, from the checkpoint's step. */
  static async resumeProject(dir: string, project: Project, opts: TrainerOptions & { log?: (line: string) => void } = {}): Promise<Trainer> {
    const c = await readCheckpoint(dir);
    const data = await projectBatches(c.config, c.vit.patchSize, project, c.step, opts.log);
    return Trainer.build(c.config, data, opts, c).catch(async (e: unknown) => {
      await data.close();
      throw e;
    });
  }

  /** Continues the run saved in `dir`; `data` must yield the batches from step `checkpointStep(dir)` on. */
  static async resume(dir: string, data: BatchSource, opts: TrainerOptions = {}): Promise<Trainer> {
    const c = await readCheckpoint(dir);
    return Trainer.build(c.config, data, opts, c);
  }

  private static async build(config: TrainConfig, data: BatchSource, opts: TrainerOptions, init: Initial): Promise<Trainer> {
    const { vit, head } = init;
    const B = config.batchSize;
    const { h, w } = patchGrid(vit, config.crops.globalSize, config.crops.globalSize);
    const maskSlots = maskUpperBound(2 * B, { gridH: h, gridW: w, maskProbability: config.masking.maskProbability, ratio: config.masking.ratio });
    const runtime: RuntimeOptions = { providers: config.runtime.providers as Provider[], ...(config.runtime.threads > 0 ? { intraOpThreads: config.runtime.threads } : {}), ...opts.runtime };
    const stepGraph = buildStepGraph({
      vit,
      head,
      batch: B,
      globalSize: config.crops.globalSize,
      localSize: config.crops.localSize,
      localCrops: config.crops.localCrops,
      maskSlots,
      loss: config.loss,
      optim: config.optim,
      remat: config.runtime.remat,
    });
    optimize(stepGraph.graph);
    const teacherGraph = buildTeacherGraph({
      vit,
      head,
      batch: B,
      globalSize: config.crops.globalSize,
      maskSlots,
      centering: centering(config, vit),
      centerMomentum: config.teacher.centerMomentum,
      sinkhornIterations: config.teacher.sinkhornIterations,
    });
    optimize(teacherGraph);
    const emaGraph = buildEmaGraph(vit, head);
    const [student, teacher, ema] = await Promise.all([
      StepRunner.create(serialize(stepGraph.graph), stepGraph.opt.stateMap, runtime),
      Session.create(serialize(teacherGraph), runtime),
      StepRunner.create(serialize(emaGraph.graph), emaGraph.stateMap, runtime),
    ]);
    const names = [...modelParamShapes(vit, head).keys()];
    for (const n of names) {
      const s = init.student.get(n);
      const t = init.teacher.get(n);
      if (!s || !t) throw new DinoscopeError('CORRUPT', `Training state has no value for ${n}.`);
      student.set(n, s);
      ema.set(n, t);
    }
    const optState = init.optimizer ?? new Map(Object.entries(stepGraph.opt.initialState()));
    for (const [k, v] of optState) student.set(k, v);
    return new Trainer(config, vit, head, data, student, stepGraph, teacher, ema, names, maskSlots, init);
  }

  /** Steps completed so far (the schedule position; the next step's index). */
  get completedSteps(): number {
    return this.stepIndex;
  }

  /** One training step. */
  async step(): Promise<StepReport> {
    const t0 = performance.now();
    const c = this.config;
    const B = c.batchSize;
    const it = this.stepIndex;
    const v = scheduleAt(c, it);
    const batch = await this.data.next();
    if (batch.step !== undefined && batch.step !== it) throw new Error(`Trainer: batch for step ${batch.step} arrived at step ${it}`);
    if (batch.masks.upperBound !== this.maskSlots) throw new Error(`Trainer: batch has ${batch.masks.upperBound} mask slots, the graphs ${this.maskSlots}`);
    const G = c.crops.globalSize;
    const L = c.crops.localSize;
    const global = hostTensor('float32', [2 * B, 3, G, G], batch.crops.global);
    const indices = hostTensor('int64', [this.maskSlots], BigInt64Array.from(batch.masks.indices, (x) => BigInt(x)));
    const weights = hostTensor('float32', [this.maskSlots], batch.masks.weights);
    const scalar = (x: number): HostTensor => hostTensor('float32', [], [x]);

    // 3. teacher
    const tFeeds: Record<string, HostTensor> = { [TEACHER_INPUTS.global]: global, [TEACHER_INPUTS.ibotIndices]: indices, [TEACHER_INPUTS.ibotWeights]: weights, [TEACHER_INPUTS.temp]: scalar(v.teacherTemp) };
    if (this.centers) {
      tFeeds[TEACHER_INPUTS.centerDino] = this.centers.dino;
      tFeeds[TEACHER_INPUTS.centerIbot] = this.centers.ibot;
    }
    for (const n of this.names) tFeeds[n] = await this.ema.get(n);
    const t = await this.teacher.run(tFeeds);

    // 4. student step
    const N = batch.masks.patches;
    const sFeeds: Record<string, HostTensor> = {
      [STEP_INPUTS.global]: global,
      [STEP_INPUTS.masks]: hostTensor('bool', [2 * B, N], batch.masks.masks),
      [STEP_INPUTS.ibotIndices]: indices,
      [STEP_INPUTS.ibotWeights]: weights,
      [STEP_INPUTS.teacherDino]: t['targets/dino'],
      [STEP_INPUTS.teacherIbot]: t['targets/ibot'],
      [STEP_INPUTS.lastLayerGate]: scalar(v.lastLayerLr > 0 || v.lr === 0 ? 1 : 0),
      'optim/lr': scalar(v.lr),
      'optim/wd': scalar(v.wd),
    };
    if (c.crops.localCrops > 0) sFeeds[STEP_INPUTS.local] = hostTensor('float32', [c.crops.localCrops * B, 3, L, L], batch.crops.local);
    if (this.stepGraph.ropeAug) {
      // One draw per crop group and block, a pure function of (seed, step) so a resumed run draws the same.
      const rng = new Rng((Math.imul(c.seed + 1, 0x9e3779b1) ^ Math.imul(it + 1, 0x85ebca6b)) >>> 0);
      sFeeds[STEP_INPUTS.ropeGlobal] = sampleRopeAug(this.vit, rng);
      if (c.crops.localCrops > 0) sFeeds[STEP_INPUTS.ropeLocal] = sampleRopeAug(this.vit, rng);
    }
    const out = await this.student.step(sFeeds);

    // 5. EMA
    const eFeeds: Record<string, HostTensor> = { 'ema/momentum': scalar(v.momentum) };
    for (const n of this.names) eFeeds[`student/${n}`] = await this.student.get(n);
    await this.ema.step(eFeeds);

    if (this.centers) this.centers = { dino: copy(t['next/center/dino']), ibot: copy(t['next/center/ibot']) };
    this.stepIndex++;
    const val = (k: string): number => (out[k].data as Float32Array)[0];
    const losses = { dino: val('loss/dino'), ibot: val('loss/ibot'), koleo: val('loss/koleo'), total: val('loss/total') };
    const gradNorms = Object.fromEntries(['backbone', ...HEADS].map((n) => [n, val(`optim/grad_norm/${n}`)]));
    const cls = t['teacher/cls'];
    const nan = [...Object.values(losses), ...Object.values(gradNorms)].some((x) => !Number.isFinite(x));
    return {
      step: this.stepIndex,
      losses,
      lr: v.lr,
      wd: v.wd,
      teacherTemp: v.teacherTemp,
      momentum: v.momentum,
      imagesPerSec: (B * 1000) / (performance.now() - t0),
      gradNorms,
      signals: { teacherEntropy: (t['signals/entropy'].data as Float32Array)[0], featureRank: effectiveRank(cls.data as Float32Array, cls.dims[0], cls.dims[1]), nan },
    };
  }

  /** Everything a checkpoint holds, copied off the runners. */
  async state(): Promise<CheckpointContents> {
    const student = new Map<string, HostTensor>();
    const teacher = new Map<string, HostTensor>();
    for (const n of this.names) {
      student.set(n, copy(await this.student.get(n)));
      teacher.set(n, copy(await this.ema.get(n)));
    }
    const optimizer = new Map<string, HostTensor>();
    for (const k of Object.keys(this.stepGraph.opt.initialState())) optimizer.set(k, copy(await this.student.get(k)));
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
    await Promise.all([this.student.session.release(), this.teacher.release(), this.ema.session.release(), this.data.close?.()]);
  }
}

function copy(t: HostTensor): HostTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as HostTensor;
}

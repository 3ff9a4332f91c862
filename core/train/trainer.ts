// The Trainer the job host and the CLI drive: builds the three graphs (student step,
// teacher forward, EMA), keeps parameters and optimiser state in their runners between steps, and runs
// one DINO + iBOT + KoLeo step per `step()`:
//   1. schedule values for this step (schedule.ts)
//   2. the next batch (2B global + nLocal·B local crops, masks) from the BatchSource (core/data/train)
//   3. teacher forward on the unmasked globals → targets (+ new centers, entropy, CLS for the rank)
//   4. student step graph: forward, losses, backward, clipping, AdamW (one onnxruntime run)
//   5. EMA graph: teacher ← m·teacher + (1 − m)·student, fed by the student runner's state tensors
// The state tensors pass from runner to runner where they live (StepRunner.value): without copies on the
// CPU, without leaving the device on WebGPU.
// Gram anchoring (DINOv3 high-resolution adaptation): a frozen Gram teacher (the starting model, or a copy of the EMA teacher refreshed on
// the schedule) runs on the batch's Gram crops; its patch tokens and the scheduled weight are inputs of the
// student step. High-resolution adaptation draws one (global, local, gram) size triple per step; core/graph
// shapes are static, so one graph set (student step, teacher, Gram teacher) is built per triple the first
// time it is drawn and cached; parameters and AdamW state move to the set a step uses.
// Dense-feature health (core/train/health/monitor.ts) runs the EMA teacher on fixed probe tiles every
// `health.every` steps, at the first and at the last step.
import { optimize } from '../graph/optimize.js';
import { serialize } from '../graph/onnx.js';
import { type Feed, type Provider, type RuntimeOptions, Session, StepRunner } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../model/config.js';
import { Rng, fromGraphLayout, initParams, toGraphLayout } from '../model/params.js';
import { sampleRopeAug } from '../model/rope.js';
import { inspectWeights, loadWeights } from '../model/weights/import.js';
import type { Project } from '../project/project.js';
import { projectBatches } from './data.js';
import type { StepSizes, TrainBatch } from '../data/train/batch.js';
import { maskUpperBound } from '../data/train/masking.js';
import { DinoscopeError } from '../common/errors.js';
import { type TrainConfig, centering, gramRefresh, gramSchedule, gramSide, headConfig, scratchViT, sizeTable } from './config.js';
import { type CheckpointContents, type GramTeacherState, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { StepSizeSchedule } from './adapt-sizes.js';
import { gramWeight, shouldRefreshGramTeacher } from './gram/schedule.js';
import { type HealthEntry, HealthMonitor } from './health/monitor.js';
import { type HeadConfig, headLayout, initHeadParams } from './heads.js';
import { HEADS, modelParamShapes } from './model.js';
import { scheduleAt } from './schedule.js';
import { effectiveRank, meanRowEntropy } from './signals.js';
import { STEP_INPUTS, type StepGraph, buildStepGraph } from './step.js';
import { TEACHER_INPUTS, buildBackboneGraph, buildEmaGraph, buildTeacherGraph } from './teacher.js';

/** Where batches come from: core/data/train's Prefetcher, or anything yielding batches in step order. */
export interface BatchSource {
  next(): Promise<TrainBatch>;
  /** Called by Trainer.close() (the Prefetcher stops its workers). */
  close?(): Promise<void>;
}

export interface StepReport {
  /** Steps completed after this one (1 after the first step). */
  step: number;
  /** 'gram' while the Gram teacher is active (its weight × it is part of the total). */
  losses: { dino: number; ibot: number; koleo: number; gram?: number; total: number };
  /** The Gram loss weight of this step (with Gram anchoring on). */
  gramWeight?: number;
  /** The crop sides of this step. */
  sizes: StepSizes;
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
    /** Entropy (nats) of the batch-mean DINO target; minus teacherEntropy: what the targets say about each crop (signals.ts). */
    meanTargetEntropy: number;
    /** Some loss or gradient norm is NaN or infinite. */
    nan: boolean;
  };
  /** Dense-feature health of the teacher on the probe tiles, on the steps it was measured. */
  health?: HealthEntry;
}

export interface TrainerOptions {
  /** Runtime options for the three sessions (threads come from the config unless given here). */
  runtime?: RuntimeOptions;
  /** The per-step size schedule the batch source draws from (its state is checkpointed). */
  sizes?: StepSizeSchedule;
}

/** A project trainer's start-up reports: log lines, and what it is doing (start-up takes seconds to minutes). */
export interface ProjectTrainerHooks {
  log?: (line: string) => void;
  phase?: (what: string) => void;
}

interface Initial {
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

/** The graphs of one (global, local, gram) size triple. */
interface GraphSet {
  key: string;
  sizes: StepSizes;
  maskSlots: number;
  student: StepRunner;
  stepGraph: StepGraph;
  teacher: Session;
  /** The Gram teacher's backbone forward on the (2B, 3, S, S) Gram crops; null without Gram anchoring. */
  gramTeacher: Session | null;
}

const sizeKey = (s: StepSizes): string => `${s.global}/${s.local}/${s.gram}`;

export class Trainer {
  private stepIndex: number;
  private centers: { dino: HostTensor; ibot: HostTensor } | null;
  private current: GraphSet;
  private readonly sets = new Map<string, GraphSet>();
  private gram: GramTeacherState | null;
  private health: HealthMonitor | null = null;
  private readonly healthHistory: HealthEntry[];

  private constructor(
    readonly config: TrainConfig,
    readonly vit: ViTConfig,
    readonly head: HeadConfig,
    private readonly data: BatchSource,
    private readonly runtime: RuntimeOptions,
    first: GraphSet,
    private readonly ema: StepRunner,
    private readonly names: string[],
    private readonly optNames: string[],
    private readonly sizes: StepSizeSchedule | null,
    init: Initial,
  ) {
    this.stepIndex = init.step;
    this.centers = init.centers;
    this.current = first;
    this.sets.set(first.key, first);
    this.gram = init.gram ?? null;
    this.healthHistory = [...(init.health?.history ?? [])];
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
    // Gram teacher 'start': the model the run starts from, frozen (fine-tuning, high-resolution adaptation).
    const gram: GramTeacherState | null =
      config.gram.enabled && config.gram.teacher === 'start' ? { params: new Map([...student].filter(([k]) => !k.includes('_head/')).map(([k, t]) => [k, copy(t)])), source: 'start', copiedAt: 0 } : null;
    return Trainer.build(config, data, opts, { step: 0, vit, head, student, teacher, optimizer: null, centers, gram });
  }

  /** A new run on a project's images: crop workers start at step 0 and are closed with the trainer. */
  static async forProject(config: TrainConfig, project: Project, opts: TrainerOptions & ProjectTrainerHooks = {}): Promise<Trainer> {
    opts.phase?.('loading the images');
    const patch = config.model.from ? (await inspectWeights(config.model.from)).config.patchSize : scratchViT(config).patchSize;
    const table = sizeTable(config, patch);
    const sizes = table ? new StepSizeSchedule(table, config.seed, 0) : undefined;
    const data = await projectBatches(config, patch, project, 0, opts.log, sizes);
    opts.phase?.('building the training graph');
    return Trainer.create(config, data, { ...opts, sizes }).catch(async (e: unknown) => {
      await data.close();
      throw e;
    });
  }

  /** Resumes the run in checkpoint `dir` on a project's images, from the checkpoint's step. */
  static async resumeProject(dir: string, project: Project, opts: TrainerOptions & ProjectTrainerHooks = {}): Promise<Trainer> {
    opts.phase?.('loading the checkpoint and the images');
    const c = await readCheckpoint(dir);
    const table = sizeTable(c.config, c.vit.patchSize);
    const sizes = table ? new StepSizeSchedule(table, c.sizes ?? c.config.seed, c.sizes ? c.step : 0) : undefined;
    const data = await projectBatches(c.config, c.vit.patchSize, project, c.step, opts.log, sizes);
    opts.phase?.('building the training graph');
    return Trainer.build(c.config, data, { ...opts, sizes }, c).catch(async (e: unknown) => {
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
    const runtime: RuntimeOptions = { providers: config.runtime.providers as Provider[], ...(config.runtime.threads > 0 ? { intraOpThreads: config.runtime.threads } : {}), ...opts.runtime };
    const sizes = opts.sizes ?? null;
    const firstSizes = sizes ? sizes.at(init.step) : Trainer.fixedSizes(config, vit);
    const emaGraph = buildEmaGraph(vit, head);
    const [first, ema] = await Promise.all([Trainer.buildSet(config, vit, head, runtime, firstSizes), StepRunner.create(serialize(emaGraph.graph), emaGraph.stateMap, runtime)]);
    const names = [...modelParamShapes(vit, head).keys()];
    for (const n of names) {
      const s = init.student.get(n);
      const t = init.teacher.get(n);
      if (!s || !t) throw new DinoscopeError('CORRUPT', `Training state has no value for ${n}.`);
      first.student.set(n, s);
      ema.set(n, t);
    }
    const optState = init.optimizer ?? new Map(Object.entries(first.stepGraph.opt.initialState()));
    for (const [k, v] of optState) first.student.set(k, v);
    const tr = new Trainer(config, vit, head, data, runtime, first, ema, names, [...optState.keys()], sizes, init);
    if (init.health && config.health.every > 0) tr.health = await HealthMonitor.create(vit, init.health.tiles, tr.healthOptions(), runtime, init.health.history);
    return tr;
  }

  /** The crop sides of a run without a size table: the config's, the Gram side from gram.scale. */
  private static fixedSizes(c: TrainConfig, vit: ViTConfig): StepSizes {
    return { global: c.crops.globalSize, local: c.crops.localSize, gram: c.gram.enabled ? gramSide(c, c.crops.globalSize, vit.patchSize) : 0 };
  }

  /** Builds and compiles the student step, teacher and Gram teacher graphs of one size triple. */
  private static async buildSet(config: TrainConfig, vit: ViTConfig, head: HeadConfig, runtime: RuntimeOptions, sizes: StepSizes): Promise<GraphSet> {
    const B = config.batchSize;
    for (const s of [sizes.global, sizes.local, ...(sizes.gram ? [sizes.gram] : [])]) {
      if (s % vit.patchSize) throw new DinoscopeError('BAD_INPUT', `Training config: crop size ${s} is not a multiple of the model's patch size ${vit.patchSize}.`);
    }
    const { h, w } = patchGrid(vit, sizes.global, sizes.global);
    const maskSlots = maskUpperBound(2 * B, { gridH: h, gridW: w, maskProbability: config.masking.maskProbability, ratio: config.masking.ratio });
    const stepGraph = buildStepGraph({
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
      // WebGPU has no Sum kernel (GraphLowering); Adds cost CUDA nothing, and the CPU only when it is a fallback.
      lowering: { sumAsAdds: (runtime.providers ?? []).includes('webgpu') },
    });
    optimize(stepGraph.graph);
    const teacherGraph = buildTeacherGraph({
      vit,
      head,
      batch: B,
      globalSize: sizes.global,
      maskSlots,
      centering: centering(config, vit),
      centerMomentum: config.teacher.centerMomentum,
      sinkhornIterations: config.teacher.sinkhornIterations,
    });
    optimize(teacherGraph);
    const gramGraph = sizes.gram ? buildBackboneGraph(vit, 2 * B, sizes.gram) : null;
    if (gramGraph) optimize(gramGraph);
    const [student, teacher, gramTeacher] = await Promise.all([
      StepRunner.create(serialize(stepGraph.graph), stepGraph.opt.stateMap, runtime),
      Session.create(serialize(teacherGraph), runtime),
      gramGraph ? Session.create(serialize(gramGraph), runtime) : Promise.resolve(null),
    ]);
    return { key: sizeKey(sizes), sizes, maskSlots, student, stepGraph, teacher, gramTeacher };
  }

  /** The graph set of `sizes`, built on first use; parameters and optimiser state move to it. */
  private async useSet(sizes: StepSizes): Promise<GraphSet> {
    const key = sizeKey(sizes);
    if (key === this.current.key) return this.current;
    let next = this.sets.get(key);
    if (!next) {
      next = await Trainer.buildSet(this.config, this.vit, this.head, this.runtime, sizes);
      this.sets.set(key, next);
    }
    const prev = this.current;
    const empty = hostTensor('float32', [0]);
    for (const n of [...this.names, ...this.optNames]) {
      next.student.set(n, prev.student.value(n));
      prev.student.set(n, empty); // drop the idle set's reference: one copy of the state, not one per cached set
    }
    this.current = next;
    return next;
  }

  private healthOptions(): { perImage: number; radius: number; seed: number } {
    return { perImage: this.config.health.perImage, radius: this.config.health.radius, seed: this.config.seed };
  }

  /** Whether step report `step` (steps completed) gets a health measurement: the first, every N-th, the last. */
  private healthDue(step: number): boolean {
    const every = this.config.health.every;
    return every > 0 && (step === 1 || step % every === 0 || step === this.config.steps);
  }

  /** The probe tiles: global crop 1 of the first `health.tiles` samples of the first batch (kept for the run). */
  private async startHealth(batch: TrainBatch, sizes: StepSizes): Promise<void> {
    const P = Math.min(this.config.health.tiles, this.config.batchSize);
    const G = sizes.global;
    const tiles = hostTensor('float32', [P, 3, G, G], batch.crops.global.slice(0, P * 3 * G * G)); // (P, 3, G, G): crop 1 of samples 0…P−1
    this.health = await HealthMonitor.create(this.vit, tiles, this.healthOptions(), this.runtime, this.healthHistory);
  }

  /** The Gram teacher before step `it`: copied from the EMA teacher at the stage start and on refreshes ('ema'). */
  private async refreshGram(it: number): Promise<void> {
    const c = this.config;
    if (!c.gram.enabled || c.gram.teacher !== 'ema') return;
    const rule = gramRefresh(c);
    if (!((it === c.gram.startStep && !this.gram) || shouldRefreshGramTeacher(rule, it) || (!this.gram && it > c.gram.startStep))) return;
    const params = new Map<string, HostTensor>();
    for (const n of this.names) if (!n.includes('_head/')) params.set(n, copy(await this.ema.get(n)));
    this.gram = { params, source: 'ema', copiedAt: it };
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
    const sizes = batch.sizes ?? { global: batch.crops.config.globalSize, local: batch.crops.config.localSize, gram: batch.crops.gramSize ?? 0 };
    if (c.gram.enabled && (!sizes.gram || !batch.crops.gram)) throw new Error(`Trainer: Gram anchoring is on but the batch for step ${it} has no Gram crops`);
    const set = await this.useSet(sizes);
    if (batch.masks.upperBound !== set.maskSlots) throw new Error(`Trainer: batch has ${batch.masks.upperBound} mask slots, the graphs ${set.maskSlots}`);
    if (!this.health && c.health.every > 0) await this.startHealth(batch, sizes);
    await this.refreshGram(it);
    const G = sizes.global;
    const L = sizes.local;
    const global = hostTensor('float32', [2 * B, 3, G, G], batch.crops.global);
    const indices = hostTensor('int64', [set.maskSlots], BigInt64Array.from(batch.masks.indices, (x) => BigInt(x)));
    const weights = hostTensor('float32', [set.maskSlots], batch.masks.weights);
    const scalar = (x: number): HostTensor => hostTensor('float32', [], [x]);

    // 3. teacher
    const tFeeds: Record<string, Feed> = { [TEACHER_INPUTS.global]: global, [TEACHER_INPUTS.ibotIndices]: indices, [TEACHER_INPUTS.ibotWeights]: weights, [TEACHER_INPUTS.temp]: scalar(v.teacherTemp) };
    if (this.centers) {
      tFeeds[TEACHER_INPUTS.centerDino] = this.centers.dino;
      tFeeds[TEACHER_INPUTS.centerIbot] = this.centers.ibot;
    }
    for (const n of this.names) tFeeds[n] = this.ema.value(n);
    const t = await set.teacher.run(tFeeds);

    // 3b. Gram teacher on the Gram crops (zeros and weight 0 until an 'ema' Gram teacher exists).
    let gw: number | undefined;
    const gramFeeds: Record<string, HostTensor> = {};
    if (set.gramTeacher) {
      const S = sizes.gram;
      const tg = patchGrid(this.vit, S, S);
      const active = this.gram !== null;
      gw = active ? gramWeight(gramSchedule(c), it) : 0;
      let patches: HostTensor;
      if (active && this.gram) {
        const gFeeds: Record<string, HostTensor> = { images: hostTensor('float32', [2 * B, 3, S, S], batch.crops.gram!) };
        for (const n of set.gramTeacher.inputNames) if (n !== 'images') gFeeds[n] = this.gramParam(n);
        patches = (await set.gramTeacher.run(gFeeds, ['patches'])).patches; // (2B, Nt, D)
      } else patches = hostTensor('float32', [2 * B, tg.h * tg.w, this.vit.dim]);
      gramFeeds[STEP_INPUTS.gramTeacher] = patches;
      gramFeeds[STEP_INPUTS.gramWeight] = scalar(gw);
    }

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
      ...gramFeeds,
    };
    if (c.crops.localCrops > 0) sFeeds[STEP_INPUTS.local] = hostTensor('float32', [c.crops.localCrops * B, 3, L, L], batch.crops.local);
    if (set.stepGraph.ropeAug) {
      // One draw per crop group and block, a pure function of (seed, step) so a resumed run draws the same.
      const rng = new Rng((Math.imul(c.seed + 1, 0x9e3779b1) ^ Math.imul(it + 1, 0x85ebca6b)) >>> 0);
      sFeeds[STEP_INPUTS.ropeGlobal] = sampleRopeAug(this.vit, rng);
      if (c.crops.localCrops > 0) sFeeds[STEP_INPUTS.ropeLocal] = sampleRopeAug(this.vit, rng);
    }
    const out = await set.student.step(sFeeds);

    // 5. EMA
    const eFeeds: Record<string, Feed> = { 'ema/momentum': scalar(v.momentum) };
    for (const n of this.names) eFeeds[`student/${n}`] = set.student.value(n);
    await this.ema.step(eFeeds);

    if (this.centers) this.centers = { dino: copy(t['next/center/dino']), ibot: copy(t['next/center/ibot']) };
    this.stepIndex++;
    this.sizes?.forget(this.stepIndex);
    const val = (k: string): number => (out[k].data as Float32Array)[0];
    const losses: StepReport['losses'] = { dino: val('loss/dino'), ibot: val('loss/ibot'), koleo: val('loss/koleo'), total: val('loss/total') };
    if (set.gramTeacher && this.gram) losses.gram = val('loss/gram');
    const gradNorms = Object.fromEntries(['backbone', ...HEADS].map((n) => [n, val(`optim/grad_norm/${n}`)]));
    const cls = t['teacher/cls'];
    const nan = [...Object.values(losses), ...Object.values(gradNorms)].some((x) => !Number.isFinite(x));
    const report: StepReport = {
      step: this.stepIndex,
      losses,
      ...(gw !== undefined ? { gramWeight: gw } : {}),
      sizes,
      lr: v.lr,
      wd: v.wd,
      teacherTemp: v.teacherTemp,
      momentum: v.momentum,
      imagesPerSec: (B * 1000) / (performance.now() - t0),
      gradNorms,
      signals: {
        teacherEntropy: (t['signals/entropy'].data as Float32Array)[0],
        featureRank: effectiveRank(cls.data as Float32Array, cls.dims[0], cls.dims[1]),
        meanTargetEntropy: meanRowEntropy(t['targets/dino'].data as Float32Array, 2 * B, this.head.prototypes),
        nan,
      },
    };
    if (this.health && this.healthDue(this.stepIndex)) {
      report.health = await this.health.measure(this.stepIndex, (n) => this.ema.get(n));
      this.healthHistory.splice(0, this.healthHistory.length, ...this.health.history);
    }
    return report;
  }

  private gramParam(name: string): HostTensor {
    const p = this.gram?.params.get(name);
    if (!p) throw new DinoscopeError('CORRUPT', `The Gram teacher has no value for ${name}.`);
    return p;
  }

  /** Measures dense-feature health now (e.g. at a stop); null before the probe tiles exist or with health off. */
  async measureHealth(): Promise<HealthEntry | null> {
    if (!this.health) return null;
    const e = await this.health.measure(this.stepIndex, (n) => this.ema.get(n));
    this.healthHistory.splice(0, this.healthHistory.length, ...this.health.history);
    return e;
  }

  /** The health measurements of the run so far (across resumes). */
  get healthLog(): readonly HealthEntry[] {
    return this.healthHistory;
  }

  /** Everything a checkpoint holds, copied off the runners. */
  async state(): Promise<CheckpointContents> {
    const student = new Map<string, HostTensor>();
    const teacher = new Map<string, HostTensor>();
    for (const n of this.names) {
      student.set(n, copy(await this.current.student.get(n)));
      teacher.set(n, copy(await this.ema.get(n)));
    }
    const optimizer = new Map<string, HostTensor>();
    for (const k of this.optNames) optimizer.set(k, copy(await this.current.student.get(k)));
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
      health: this.health ? { tiles: this.health.tiles, history: [...this.healthHistory] } : null,
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
    const sessions = [...this.sets.values()].flatMap((s) => [s.student.session, s.teacher, ...(s.gramTeacher ? [s.gramTeacher] : [])]);
    await Promise.all([...sessions.map((s) => s.release()), this.ema.session.release(), this.health?.release(), this.data.close?.()]);
  }
}

function copy(t: HostTensor): HostTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as HostTensor;
}

// The CAPI trainer (objective 'capi'): one step is three onnxruntime runs, in train_capi.py's order:
//   1. schedule values; the batch (its 2B global crops are the step's M images); masks drawn from (seed, step)
//   2. teacher graph: EMA encoder on the full images → clustering head → Sinkhorn-Knopp targets at the
//      predicted positions; the clustering head's loss and AdamW step (it sees the targets it just made)
//   3. student graph: encoder on the visible patches → predictor → CE against the targets; AdamW
//   4. EMA graph: teacher encoder ← m·teacher + (1 − m)·student
// Parameters and optimiser state stay in the runners (StepRunner), as in the DINO trainer; the teacher's
// encoder buffer is fed to the teacher graph where it lives (no copies on the CPU).
import { serialize } from '../../graph/onnx.js';
import { optimize } from '../../graph/optimize.js';
import { loweringFor } from '../../graph/graph.js';
import { type Feed, type RuntimeOptions, StepRunner } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../../model/config.js';
import { Rng, fromGraphLayout, toGraphLayout } from '../../model/params.js';
import { inspectWeights, loadWeights } from '../../model/weights/import.js';
import { DinoscopeError } from '../../common/errors.js';
import { type TrainHardware } from '../../common/api.js';
import { type TrainConfig, revisedConfig, scratchViT, withSteps } from '../config.js';
import { projectRunData } from '../data.js';
import type { Project } from '../../project/project.js';
import { trainRuntime } from '../device.js';
import { copyTensor } from '../initial.js';
import { scalar } from '../step-batch.js';
import { type BatchSource } from '../trainer.js';
import { CLUSTERING_OPTIM, type CapiCheckpoint, readCapiCheckpoint, writeCapiCheckpoint } from './checkpoint.js';
import {
  CAPI_EMA_MOMENTUM,
  CAPI_STUDENT_IO,
  CAPI_TEACHER_IO,
  type CapiSpec,
  buildCapiEma,
  buildCapiStudent,
  buildCapiTeacher,
  capiEmaStudentInput,
} from './graphs.js';
import { capiMaskCounts, capiMasks, flatIndices } from './masking.js';
import { type CapiPart, capiFlatName, capiLayouts, initCapiParams, packCapi, predictorConfig, unpackCapi } from './model.js';
import { type PredictorConfig } from './predictor.js';
import { type HealthEntry } from '../health/monitor.js';
import { RunHealth } from '../health/run-health.js';
import { contextCoords, patchCoord, prefixCoords, ropeFreqs, ropeTables } from './rope-coords.js';
import { type CapiStepValues, plannedCapiScheduleAt } from './schedule.js';
import { type AdamWStep } from '../../graph/optim.js';

export interface CapiStepReport {
  /** Steps completed. */
  step: number;
  losses: { capi: number; clustering: number; total: number };
  /** Mean entropy (nats) of the targets: ln K when uniform, 0 when one-hot. */
  targetEntropy: number;
  schedule: CapiStepValues;
  /** Dense-feature health of the EMA encoder on the probe tiles, on the steps it was measured (health/). */
  health?: HealthEntry;
  imagesPerSec: number;
  ms: number;
}

export interface CapiTrainerOptions {
  runtime?: RuntimeOptions;
  probe?: () => Promise<TrainHardware>;
  log?: (line: string) => void;
}

const STUDENT_PARTS: readonly CapiPart[] = ['backbone', 'predictor'];

export class CapiTrainer {
  private stepIndex: number;
  private readonly layouts: ReturnType<typeof capiLayouts>;
  private readonly freqs: Float64Array;

  private cfg: TrainConfig;

  /** The run's config, deeply frozen; replaced as a whole by setTotalSteps. */
  get config(): TrainConfig {
    return this.cfg;
  }

  private constructor(
    config: TrainConfig,
    readonly vit: ViTConfig,
    readonly predictor: PredictorConfig,
    private readonly spec: CapiSpec,
    private readonly data: BatchSource,
    private readonly student: StepRunner,
    private readonly studentOpt: AdamWStep,
    private readonly teacher: StepRunner,
    private readonly teacherOpt: AdamWStep,
    private readonly ema: StepRunner,
    private readonly health: RunHealth,
    step: number,
  ) {
    this.cfg = config;
    this.stepIndex = step;
    this.layouts = capiLayouts(vit, predictor);
    this.freqs = ropeFreqs(vit.dim / vit.heads);
  }

  /** A new run: the encoder from scratch (seeded) or from model.from; the predictor and clustering head fresh; teacher = student. */
  static async create(config: TrainConfig, data: BatchSource, opts: CapiTrainerOptions = {}): Promise<CapiTrainer> {
    let vit: ViTConfig;
    let params: Map<string, HostTensor>;
    if (config.model.from) {
      const w = await loadWeights(config.model.from);
      vit = { ...w.config, layerScale: { ...w.config.layerScale } };
      const pred = predictorConfig(config, vit);
      params = initCapiParams(vit, pred, config.seed);
      for (const [k, t] of w.tensors) params.set(k, toGraphLayout(k, hostTensor('float32', t.shape, t.data))); // PyTorch → graph layout
    } else {
      vit = scratchViT(config);
      params = initCapiParams(vit, predictorConfig(config, vit), config.seed);
    }
    const teacher = new Map([...params].filter(([k]) => !k.startsWith('predictor/')).map(([k, t]) => [k, copyTensor(t)]));
    const student = new Map([...params].filter(([k]) => !k.startsWith('clustering/')));
    return CapiTrainer.build(config, vit, data, opts, { step: 0, config, vit, student, teacher, optimizer: new Map() });
  }

  /** A new run on a project's images (its crop workers are closed with the trainer). */
  static async forProject(config: TrainConfig, project: Project, opts: CapiTrainerOptions = {}): Promise<CapiTrainer> {
    const patch = config.model.from ? (await inspectWeights(config.model.from)).config.patchSize : scratchViT(config).patchSize;
    const { data } = await projectRunData(config, patch, project, { step: 0 }, opts.log);
    try {
      return await CapiTrainer.create(config, data, opts);
    } catch (e) {
      await data.close();
      throw e;
    }
  }

  /** Fixes the run's length (every schedule's horizon), e.g. once a time budget's first steps are timed. */
  setTotalSteps(steps: number): void {
    this.cfg = withSteps(this.cfg, steps);
  }

  /** Replaces the config by a re-planned one (schedule-plan.ts: a budget re-estimate or an extension), checked and frozen. */
  revise(next: TrainConfig): void {
    this.cfg = revisedConfig(next);
  }

  /** Continues the run saved in `dir` on a project's images, from the checkpoint's step on. */
  static async resumeProject(dir: string, project: Project, opts: CapiTrainerOptions = {}): Promise<CapiTrainer> {
    const c = await readCapiCheckpoint(dir);
    const { data } = await projectRunData(c.config, c.vit.patchSize, project, { step: c.step }, opts.log);
    try {
      return await CapiTrainer.build(c.config, c.vit, data, opts, c);
    } catch (e) {
      await data.close();
      throw e;
    }
  }

  /** Continues the run saved in `dir`; `data` must yield the batches from the checkpoint's step on. */
  static async resume(dir: string, data: BatchSource, opts: CapiTrainerOptions = {}): Promise<CapiTrainer> {
    const c = await readCapiCheckpoint(dir);
    return CapiTrainer.build(c.config, c.vit, data, opts, c);
  }

  private static async build(
    config: TrainConfig,
    vit: ViTConfig,
    data: BatchSource,
    opts: CapiTrainerOptions,
    init: CapiCheckpoint,
  ): Promise<CapiTrainer> {
    if (config.objective !== 'capi') throw new Error('CapiTrainer: the config is not a CAPI run (objective capi)');
    if (vit.arch !== 'dinov2')
      throw new DinoscopeError(
        'BAD_INPUT',
        'CAPI training needs a DINOv2-style model (learned position embedding): its student drops the masked patches, which the RoPE tables of a DINOv3 model do not allow yet.',
      );
    const { runtime, device } = await trainRuntime(config, opts.runtime, opts.probe, 'fp32');
    opts.log?.(device.line);
    const pred = predictorConfig(config, vit);
    const { h, w } = patchGrid(vit, config.crops.globalSize, config.crops.globalSize);
    const spec: CapiSpec = {
      vit,
      predictor: pred,
      clustering: { targetTemp: config.capi.targetTemp, predTemp: config.capi.predTemp, iterations: config.capi.sinkhornIterations },
      images: 2 * config.batchSize,
      size: config.crops.globalSize,
      counts: capiMaskCounts(h * w, config.capi.maskRatio, config.capi.predictFraction),
      studentTemp: config.capi.studentTemp,
      lowering: loweringFor(runtime.providers ?? []), // WebGPU's op forms where it runs (core/graph GraphLowering)
      optim: {
        beta1: config.optim.beta1,
        beta2: config.optim.beta2,
        patchEmbedLrMult: config.optim.patchEmbedLrMult,
        normWdMult: config.capi.normWdMult,
      },
    };
    const s = buildCapiStudent(spec);
    const t = buildCapiTeacher(spec);
    const e = buildCapiEma(vit, pred);
    for (const x of [s.graph, t.graph, e.graph]) optimize(x);
    const [student, teacher, ema] = await Promise.all([
      StepRunner.create(serialize(s.graph), s.opt.stateMap, runtime),
      StepRunner.create(serialize(t.graph), t.opt.stateMap, runtime),
      StepRunner.create(serialize(e.graph), e.stateMap, runtime),
    ]);
    const layouts = capiLayouts(vit, pred);
    for (const [k, v] of packCapi(layouts, init.student, STUDENT_PARTS, 'CAPI state (student)')) student.set(k, v);
    for (const [k, v] of packCapi(layouts, init.teacher, ['clustering'], 'CAPI state (clustering head)')) teacher.set(k, v);
    for (const [k, v] of packCapi(layouts, init.teacher, ['backbone'], 'CAPI state (teacher)')) ema.set(k, v);
    const optimizer = init.optimizer;
    const own = new Map([...optimizer].filter(([k]) => !k.startsWith(CLUSTERING_OPTIM)));
    const clustering = new Map(
      [...optimizer].filter(([k]) => k.startsWith(CLUSTERING_OPTIM)).map(([k, v]) => [k.slice(CLUSTERING_OPTIM.length), v]),
    );
    const fill = (runner: StepRunner, opt: AdamWStep, saved: Map<string, HostTensor>): void => {
      const values = saved.size ? opt.fromPerTensor(saved) : new Map(Object.entries(opt.initialState()));
      for (const [k, v] of values) runner.set(k, v);
    };
    fill(student, s.opt, own);
    fill(teacher, t.opt, clustering);
    const health = await RunHealth.create(config, vit, runtime, init.health);
    return new CapiTrainer(config, vit, pred, spec, data, student, s.opt, teacher, t.opt, ema, health, init.step);
  }

  get completedSteps(): number {
    return this.stepIndex;
  }

  /** One CAPI step. */
  async step(): Promise<CapiStepReport> {
    const t0 = performance.now();
    const it = this.stepIndex;
    const c = this.config;
    const v = plannedCapiScheduleAt(c, it); // through the run's re-plans (minutes budgets, extensions)
    const batch = await this.data.next();
    if (batch.step !== undefined && batch.step !== it) throw new Error(`CapiTrainer: batch for step ${batch.step} arrived at step ${it}`);
    const { spec } = this;
    const M = spec.images;
    const images = hostTensor('float32', [M, 3, spec.size, spec.size], batch.crops.global);
    const { h, w } = patchGrid(this.vit, spec.size, spec.size);
    const N = h * w;
    // Masks: a pure function of (seed, step), so a resumed run masks as the uninterrupted one.
    const masks = capiMasks(M, h, w, spec.counts, new Rng((Math.imul(c.seed + 1, 0x27d4eb2f) ^ Math.imul(it + 1, 0x165667b1)) >>> 0));
    const predict = hostTensor('int64', [M * spec.counts.predict], flatIndices(masks.predict, N));
    const visible = hostTensor('int64', [M * spec.counts.visible], flatIndices(masks.visible, N));
    const prefix = prefixCoords(this.vit.registers, true);
    const q = ropeTables(
      masks.predict.map((p) => p.map((t) => patchCoord(t, h, w))),
      this.freqs,
    );
    const k = ropeTables(
      masks.visible.map((vis) => contextCoords(vis, h, w, prefix)),
      this.freqs,
    );
    await this.health.start(batch.crops.global, spec.size); // the run's probe tiles, from its first batch
    const tFeeds: Record<string, Feed> = CAPI_TEACHER_IO.feeds({
      images,
      predict,
      lr: scalar(v.clusteringLr),
      wd: scalar(c.capi.clusteringWeightDecay),
    });
    tFeeds[CAPI_TEACHER_IO.inputs.backbone] = this.ema.value(capiFlatName('backbone'));
    const t = CAPI_TEACHER_IO.read(await this.teacher.step(tFeeds));
    const out = CAPI_STUDENT_IO.read(
      await this.student.step(
        CAPI_STUDENT_IO.feeds({
          images,
          visible,
          predict,
          qCos: q.cos,
          qSin: q.sin,
          kCos: k.cos,
          kSin: k.sin,
          targets: t.targets,
          lr: scalar(v.lr),
          wd: scalar(v.wd),
        }),
      ),
    );
    const name = capiFlatName('backbone');
    await this.ema.step({ [CAPI_EMA_MOMENTUM]: scalar(v.momentum), [capiEmaStudentInput(name)]: this.student.value(name) });
    this.stepIndex++;
    const capi = num(out.loss);
    const clustering = num(t.clustering);
    // A non-finite loss is reported, not thrown: the run loop (run.ts) turns it into a NanLossError as for a
    // DINO step, so the job host pauses the run at its last good checkpoint with a plain message. This step's
    // parameters are garbage from here on; the loop never checkpoints them.
    const finite = Number.isFinite(capi) && Number.isFinite(clustering);
    const ms = performance.now() - t0;
    const report: CapiStepReport = {
      step: this.stepIndex,
      losses: { capi, clustering, total: capi + clustering },
      targetEntropy: num(t.entropy),
      schedule: v,
      imagesPerSec: (M * 1000) / ms,
      ms,
    };
    if (finite && this.health.due(this.stepIndex, this.config.steps)) report.health = (await this.measureHealth()) ?? undefined;
    return report;
  }

  /** Measures dense-feature health of the EMA encoder now; null before the probe tiles exist or with health off. */
  async measureHealth(): Promise<HealthEntry | null> {
    let teacher: Map<string, HostTensor> | null = null;
    return this.health.measure(this.stepIndex, async (n) => {
      teacher ??= unpackCapi(this.layouts, new Map([[capiFlatName('backbone'), copyTensor(await this.ema.get(capiFlatName('backbone')))]]));
      const t = teacher.get(n);
      if (!t) throw new Error(`CapiTrainer: the teacher has no parameter ${n}`);
      return t;
    });
  }

  /** The health measurements of the run so far (across resumes). */
  get healthLog(): readonly HealthEntry[] {
    return this.health.log;
  }

  /** Everything a checkpoint holds, copied off the runners (per tensor). */
  async state(): Promise<CapiCheckpoint> {
    const copy = async (r: StepRunner, names: readonly string[]): Promise<Map<string, HostTensor>> => {
      const m = new Map<string, HostTensor>();
      for (const n of names) m.set(n, copyTensor(await r.get(n)));
      return m;
    };
    const student = unpackCapi(this.layouts, await copy(this.student, STUDENT_PARTS.map(capiFlatName)));
    const teacher = unpackCapi(
      this.layouts,
      new Map([...(await copy(this.ema, [capiFlatName('backbone')])), ...(await copy(this.teacher, [capiFlatName('clustering')]))]),
    );
    const optimizer = this.studentOpt.perTensor(await copy(this.student, this.studentOpt.stateNames));
    for (const [k, v] of this.teacherOpt.perTensor(await copy(this.teacher, this.teacherOpt.stateNames)))
      optimizer.set(CLUSTERING_OPTIM + k, v);
    return { step: this.stepIndex, config: this.config, vit: this.vit, student, teacher, optimizer, health: this.health.saved() };
  }

  /** Writes an atomic checkpoint folder `dir`. */
  async checkpoint(dir: string): Promise<void> {
    await writeCapiCheckpoint(dir, await this.state());
  }

  /** The EMA teacher's encoder in PyTorch layout (canonical names): the model a run produces. */
  async teacherBackbone(): Promise<Map<string, HostTensor>> {
    const flat = new Map([[capiFlatName('backbone'), copyTensor(await this.ema.get(capiFlatName('backbone')))]]);
    return new Map([...unpackCapi(this.layouts, flat)].map(([k, t]) => [k, fromGraphLayout(k, t, this.vit.inChans)]));
  }

  async close(): Promise<void> {
    await Promise.all([
      this.health.release(),
      this.student.session.release(),
      this.teacher.session.release(),
      this.ema.session.release(),
      this.data.close?.(),
    ]);
  }
}

const num = (t: HostTensor): number => Number((t.data as Float32Array)[0]);

// The training half of the API contract (DinoscopeApi trainPresets … stopTraining), as AppService
// delegates it: argument checks, the open project's run records (project.json + progress.jsonl) merged
// with the live runs of the TrainingHost. A record that says 'running' with no live child of ours is a
// run whose app crashed: it is reported 'interrupted' and resumeTraining restarts it from its checkpoint.
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DistilStartOptions,
  TrainEstimate,
  TrainExtendOptions,
  TrainTiming,
  TrainStage,
  TrainHardware,
  TrainPresetInfo,
  TrainRunInfo,
  TrainStartOptions,
  TrainStepInfo,
} from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { thinSteps } from '../../common/thin-steps.js';
import type { ViTConfig } from '../../model/config.js';
import type { ModelManager } from '../../model/manager/manager.js';
import { MANIFEST, WEIGHTS } from '../../model/manager/manifest.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { inspectWeights } from '../../model/weights/import.js';
import { Project } from '../../project/project.js';
import { adaptMemory } from '../adapt.js';
import { capiEstimate } from '../capi/estimate.js';
import { formatMemory } from '../gram/memory.js';
import { PRESET_INFO, type PresetName, type TrainConfig, scratchViT, trainConfig } from '../config.js';
import type { RunRecord } from '../run.js';
import type { RunStepReport } from '../step-report.js';
import { resolveDevice } from '../../hardware/device.js';
import { probeHardware } from '../../hardware/hardware.js';
import { type TrainingHost, stepInfo } from './host.js';
import { trainPresets } from './presets.js';
import { checkBudget } from '../time-budget.js';
import { recordedRunData } from '../run-data.js';
import { withPanelChannels } from '../project-images.js';
import { routeOverrides } from '../route.js';
import { budgetTiming } from './timing.js';
import { runModelId } from './register.js';
import { type StudentSize, distilConfig, fitCrops, parseStudents, studentViT } from '../distill/config.js';
import { studentModelName } from '../distill/run.js';
import { distillEstimate } from '../distill/estimate.js';
import type { ChildRunOptions } from './protocol.js';
import { readTileList } from '../../data/train/tile-list.js';
import { curatedTilesPath } from '../../features/curation/curated-tiles.js';

/** A distillation run's child options from its record (a resume reads the teacher from its checkpoint). */
function distilOf(r: RunRecord | null): { distil?: { teacher: string; teacherName: string; students: StudentSize[] } } {
  const d = (r as (RunRecord & { distil?: { teacher?: unknown; students?: unknown } }) | null)?.distil;
  if (!d || !Array.isArray(d.students)) return {};
  return { distil: { teacher: '', teacherName: String(d.teacher ?? ''), students: d.students as StudentSize[] } };
}

/** A distillation request as checkDistil leaves it: what the child runs and what the estimate reads. */
interface CheckedDistil {
  preset: PresetName;
  overrides: Record<string, unknown>;
  /** The run's config with the request's steps (the estimate's budget). */
  config: TrainConfig;
  teacherVit: ViTConfig;
  students: { name: string; vit: ViTConfig }[];
  distil: NonNullable<ChildRunOptions['distil']>;
}

export interface TrainingApiDeps {
  host: TrainingHost;
  models: ModelManager;
  /** The open project, or BAD_INPUT. */
  project(): Project;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRecord = (v: unknown): v is RunRecord => isObject(v) && typeof v.name === 'string';
const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

interface Checked {
  stage: TrainStage;
  preset: PresetName;
  overrides: Record<string, unknown>;
  steps?: number;
  minutes?: number;
  name?: string;
  config: TrainConfig;
}

export class TrainingApi {
  constructor(private readonly d: TrainingApiDeps) {}

  async presets(): Promise<TrainPresetInfo[]> {
    return trainPresets();
  }

  async hardware(): Promise<TrainHardware> {
    return probeHardware();
  }

  /** Validates start options into a merged config (BAD_INPUT naming the problem). */
  private async check(o: TrainStartOptions): Promise<Checked> {
    if (!isObject(o)) throw new DinoscopeError('BAD_INPUT', 'Training options must be an object.');
    const info = PRESET_INFO.find((p) => p.name === o.preset);
    if (!info)
      throw new DinoscopeError('BAD_INPUT', `Unknown preset ${JSON.stringify(o.preset)} (${PRESET_INFO.map((p) => p.name).join(', ')}).`);
    const stage = o.stage ?? info.stage;
    if (stage !== 'pretrain' && stage !== 'adapt')
      throw new DinoscopeError('BAD_INPUT', `Unknown training stage ${JSON.stringify(stage)} (pretrain, adapt).`);
    if (info.stage !== stage)
      throw new DinoscopeError(
        'BAD_INPUT',
        `Preset ${info.name} is a ${info.stage} preset; ${stage} presets: ${PRESET_INFO.filter((p) => p.stage === stage)
          .map((p) => p.name)
          .join(', ')}.`,
      );
    if (stage === 'adapt' && (o.from === undefined || o.from === null))
      throw new DinoscopeError('BAD_INPUT', 'Adapting to high resolution needs the model to adapt: give from (a model id).');
    if (o.overrides !== undefined && !isObject(o.overrides))
      throw new DinoscopeError('BAD_INPUT', 'Training overrides must be an object of config keys.');
    for (const k of ['steps', 'minutes'] as const) {
      const v = o[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && (k === 'minutes' || Number.isInteger(v))))
        throw new DinoscopeError('BAD_INPUT', `${k} must be a positive ${k === 'steps' ? 'integer' : 'number'}, got ${JSON.stringify(v)}.`);
    }
    if (o.steps !== undefined && o.minutes !== undefined) throw new DinoscopeError('BAD_INPUT', 'Give either steps or minutes, not both.');
    if (o.name !== undefined && (typeof o.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.name)))
      throw new DinoscopeError('BAD_INPUT', `Run name ${JSON.stringify(o.name)}: use letters, digits, '.', '_' and '-'.`);
    let overrides: Record<string, unknown> = structuredClone(o.overrides ?? {});
    if (o.from !== undefined && o.from !== null) {
      if (typeof o.from !== 'string') throw new DinoscopeError('BAD_INPUT', 'from must be a model id.');
      const m = await this.d.models.find(o.from);
      const model = isObject(overrides.model) ? overrides.model : {};
      overrides.model = { ...model, from: join(m.path, WEIGHTS) };
      // Continued pretraining: crop sides the panel left at the preset's fitted to the model's patch size.
      if (stage === 'pretrain') {
        const route = { kind: 'continued' as const, model: m.id, weights: join(m.path, WEIGHTS), why: 'chosen in the Train panel' };
        overrides = await routeOverrides(route, info.name, overrides);
      }
    }
    const config = trainConfig(info.name, o.steps !== undefined ? { ...overrides, steps: o.steps } : overrides);
    return { stage, preset: info.name, overrides, steps: o.steps, minutes: o.minutes, name: o.name, config };
  }

  async estimate(o: TrainStartOptions): Promise<TrainEstimate> {
    const checked = this.onPanel(await this.check(o));
    const c = checked.config;
    const base: ViTConfig = c.model.from ? (await inspectWeights(c.model.from)).config : scratchViT(c);
    // From an RGB model on a panel: its patch embedding inflated to the panel's channels, as the run does.
    const vit: ViTConfig = c.model.channels !== null ? { ...base, inChans: c.model.channels } : base;
    const timing = await this.timing(c, o.minutes, { preset: checked.preset, overrides: checked.overrides });
    if (c.objective === 'capi') {
      const e = capiEstimate(c, vit); // CAPI's step: encoder on the visible patches, predictor, clustering head
      return { totalBytes: e.totalBytes, text: formatMemory(e.totalBytes), ...(timing ? { timing } : {}) };
    }
    // The largest of the size triples a run can draw (one triple without a size table).
    const worst = adaptMemory(c, vit).reduce((a, b) => (b.bytes > a.bytes ? b : a));
    return { totalBytes: worst.bytes, text: worst.text, ...(timing ? { timing } : {}) };
  }

  /** The config a run would train on the open project: a panel's channels (model.channels C) included,
   * so that the memory and the measured step are the multi-channel run's, not an RGB one's. */
  private onPanel(c: Checked): Checked {
    let project: Project;
    try {
      project = this.d.project();
    } catch {
      return c;
    }
    const { overrides, panel } = withPanelChannels(project, c.overrides);
    if (!panel) return c;
    return { ...c, overrides, config: trainConfig(c.preset, c.steps !== undefined ? { ...overrides, steps: c.steps } : overrides) };
  }

  /**
   * The budget's time on this computer from a measured step (timing.ts) of `config` as the child builds it
   * from `child` (a distillation's step with `child.distil`); none without an open project.
   */
  private async timing(
    config: TrainConfig,
    minutes: number | undefined,
    child: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'>,
  ): Promise<TrainTiming | null> {
    let project: Project;
    try {
      project = this.d.project();
    } catch {
      return null;
    }
    const dir = project.dir;
    // The device a run of this config would use (the trainer resolves it the same way: core/train/device.ts).
    const device = (await resolveDevice(config.runtime.device, 'Training')).providers[0];
    // Images count: a measurement that failed for want of images is tried again once there are some.
    const images = project.images().filter((i) => i.status === 'ok').length;
    const key = JSON.stringify([dir, images, device, { ...config, steps: 0 }, ...(child.distil ? [child.distil] : [])]);
    const r = this.d.host.timings.lookup(key, dir, child);
    if (!('timing' in r)) return { state: r.state, ...(r.message ? { message: r.message } : {}) };
    return budgetTiming(r.timing, minutes !== undefined ? { minutes } : { steps: config.steps });
  }

  async start(o: TrainStartOptions): Promise<TrainRunInfo> {
    const c = await this.check(o);
    const project = this.d.project();
    const fresh = await Project.open(project.dir);
    if (!fresh.images().some((i) => i.status === 'ok'))
      throw new DinoscopeError('BAD_INPUT', `${project.file}: no readable (ok) images to train on.`);
    const name = c.name ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (fresh.runs().some((r) => isRecord(r) && r.name === name) || this.d.host.isLive(project.dir, name))
      throw new DinoscopeError('BAD_INPUT', `${project.file}: a run named "${name}" exists; resume it or pick another name.`);
    return this.d.host.start(project.dir, {
      name,
      stage: c.stage,
      preset: c.preset,
      overrides: c.overrides,
      steps: c.steps,
      minutes: c.minutes,
      resume: false,
    });
  }

  /**
   * A distillation request checked before any child starts: the teacher a model of the project or the user's
   * models folder, the students checked against it (each size once, smaller, the teacher's patch size), the
   * crops fitted to its patch size, a curated set read.
   */
  private async checkDistil(o: DistilStartOptions): Promise<CheckedDistil> {
    if (!isObject(o)) throw new DinoscopeError('BAD_INPUT', 'Distillation options must be an object.');
    checkBudget(o.steps, o.minutes);
    if (o.tiles !== undefined) {
      // The curated set is read first, so a missing or broken one is refused before anything else is loaded.
      if (typeof o.tiles !== 'string') throw new DinoscopeError('BAD_INPUT', 'tiles must be the name of a curated set.');
      await readTileList(curatedTilesPath(this.d.project(), o.tiles));
    }
    const preset = o.preset ?? 'quick';
    const info = PRESET_INFO.find((p) => p.name === preset && p.stage === 'pretrain' && p.name !== 'capi'); // students learn DINO + iBOT
    if (!info) throw new DinoscopeError('BAD_INPUT', `Unknown preset "${preset}" for distillation (quick, standard).`);
    if (typeof o.teacher !== 'string' || !o.teacher) throw new DinoscopeError('BAD_INPUT', 'Choose the model to distil (teacher).');
    const m = await this.d.models.find(o.teacher);
    const weights = join(m.path, WEIGHTS);
    const students = parseStudents(Array.isArray(o.students) ? o.students.join(',') : '');
    const teacherVit = (await inspectWeights(weights)).config;
    let overrides: Record<string, unknown> = {};
    const fitted = fitCrops(distilConfig(info.name), teacherVit.patchSize);
    if (Object.keys(fitted).length) overrides = { crops: fitted };
    if (o.tiles !== undefined) overrides = { ...overrides, data: { tiles: o.tiles } };
    const config = distilConfig(info.name, o.steps !== undefined ? { ...overrides, steps: o.steps } : overrides);
    const vits = students.map((s) => ({ name: s.size, vit: studentViT(teacherVit, s) })); // BAD_INPUT: not smaller, another patch size
    return {
      preset: info.name,
      overrides,
      config,
      teacherVit,
      students: vits,
      distil: { teacher: weights, teacherName: m.id, students: students.map((s) => s.size) },
    };
  }

  /**
   * What a distillation would need, before Start: peak memory (distill/estimate.ts: the frozen teacher and each
   * student's step) and, with a project open, its time on this computer from one step measured in a training
   * child with the run's own trainer (measure.ts), cached as a pretraining config's.
   */
  async estimateDistil(o: DistilStartOptions): Promise<TrainEstimate> {
    const c = await this.checkDistil(o);
    const e = distillEstimate(c.config, c.teacherVit, c.students);
    const timing = await this.timing(c.config, o.minutes, { preset: c.preset, overrides: c.overrides, distil: c.distil });
    return { totalBytes: e.totalBytes, text: formatMemory(e.totalBytes), ...(timing ? { timing } : {}) };
  }

  /** Starts a distillation run (core/train/distill), checked as checkDistil says. */
  async startDistil(o: DistilStartOptions): Promise<TrainRunInfo> {
    const c = await this.checkDistil(o);
    const project = this.d.project();
    const fresh = await Project.open(project.dir);
    if (!fresh.images().some((i) => i.status === 'ok'))
      throw new DinoscopeError('BAD_INPUT', `${project.file}: no readable (ok) images to train on.`);
    const name = o.name ?? `distil-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (fresh.runs().some((r) => isRecord(r) && r.name === name) || this.d.host.isLive(project.dir, name))
      throw new DinoscopeError('BAD_INPUT', `${project.file}: a run named "${name}" exists; resume it or pick another name.`);
    return this.d.host.start(project.dir, {
      name,
      stage: 'pretrain',
      preset: c.preset,
      overrides: c.overrides,
      steps: o.steps,
      minutes: o.minutes,
      resume: false,
      distil: c.distil,
    });
  }

  private async records(dir: string): Promise<RunRecord[]> {
    return (await Project.open(dir)).runs().filter(isRecord);
  }

  private async fromRecord(dir: string, r: RunRecord): Promise<TrainRunInfo> {
    const d = distilOf(r).distil;
    const id = d ? studentModelName(r.name, d.students[0]) : runModelId(r.name);
    const hasModel = await exists(join(projectModelsDir(dir), id, MANIFEST));
    const stage = (r as RunRecord & { stage?: unknown }).stage === 'adapt' ? 'adapt' : 'pretrain';
    const info: TrainRunInfo = {
      name: r.name,
      stage,
      preset: r.preset,
      status: r.status === 'running' ? 'interrupted' : r.status,
      step: r.step,
      totalSteps: r.totalSteps,
      checkpointStep: r.checkpointStep,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      jobId: null,
      modelId: hasModel ? id : null,
      data: recordedRunData(r),
    };
    if (r.error) info.error = r.error;
    if (r.precision) info.precision = r.precision;
    return info;
  }

  async runs(): Promise<TrainRunInfo[]> {
    const dir = this.d.project().dir;
    const out = new Map<string, TrainRunInfo>();
    for (const r of await this.records(dir)) out.set(r.name, await this.fromRecord(dir, r));
    // Live runs (jobId set) override their records; ended ones are read back from project.json.
    for (const live of this.d.host.list(dir).filter((r) => r.jobId !== null)) {
      const rec = out.get(live.name);
      out.set(live.name, { ...live, modelId: live.modelId ?? rec?.modelId ?? null, createdAt: rec?.createdAt ?? live.createdAt });
    }
    return [...out.values()];
  }

  private async run(name: string): Promise<{ dir: string; info: TrainRunInfo; record: RunRecord | null }> {
    if (typeof name !== 'string' || !name) throw new DinoscopeError('BAD_INPUT', 'A run name is required.');
    const dir = this.d.project().dir;
    const record = (await this.records(dir)).find((r) => r.name === name) ?? null;
    const live = this.d.host.get(dir, name);
    if (live && this.d.host.isLive(dir, name)) return { dir, info: live, record };
    if (!record) throw new DinoscopeError('NOT_FOUND', `No run "${name}" in ${dir}.`);
    return { dir, info: await this.fromRecord(dir, record), record };
  }

  /** The run's recorded steps; with `maxSteps`, thinned to about that many for charts (thin-steps.ts). */
  async history(name: string, maxSteps?: number): Promise<TrainStepInfo[]> {
    const { dir, info, record } = await this.run(name);
    const file = join(dir, record?.dir ?? join('runs', name), 'progress.jsonl');
    const text = await readFile(file, 'utf8').catch(() => '');
    const out: TrainStepInfo[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let r: RunStepReport;
      try {
        r = JSON.parse(line) as RunStepReport;
      } catch {
        continue; // a line torn by a kill
      }
      out.push(stepInfo(name, info.jobId ?? '', r, info.totalSteps, NaN));
    }
    return maxSteps === undefined ? out : thinSteps(out, maxSteps);
  }

  async pause(name: string): Promise<TrainRunInfo> {
    const { dir } = await this.run(name);
    return this.d.host.pause(dir, name);
  }

  async resume(name: string): Promise<TrainRunInfo> {
    const { dir, info, record } = await this.run(name);
    if (this.d.host.isLive(dir, name)) return this.d.host.resume(dir, name);
    if (!record || info.status === 'done') throw new DinoscopeError('BAD_INPUT', `Run "${name}" is ${info.status}: nothing to resume.`);
    if (record.checkpointStep === null) throw new DinoscopeError('BAD_INPUT', `Run "${name}" has no checkpoint to resume from.`);
    return this.d.host.start(dir, { name, stage: info.stage, preset: record.preset, resume: true, ...distilOf(record) }, record);
  }

  /** More steps or minutes for a finished or stopped run, from its checkpoint (core/train/run.ts extends it). */
  async extend(name: string, o: TrainExtendOptions): Promise<TrainRunInfo> {
    if (!isObject(o)) throw new DinoscopeError('BAD_INPUT', 'Give the run more steps or minutes: { steps } or { minutes }.');
    const { steps, minutes } = o as TrainExtendOptions;
    checkBudget(steps, minutes);
    if (steps === undefined && minutes === undefined)
      throw new DinoscopeError('BAD_INPUT', 'Give the run more steps or minutes: { steps } or { minutes }.');
    const { dir, info, record } = await this.run(name);
    if (this.d.host.isLive(dir, name))
      throw new DinoscopeError('BAD_INPUT', `Run "${name}" is ${info.status}: stop it or let it finish before continuing it.`);
    if (!record || record.checkpointStep === null)
      throw new DinoscopeError('BAD_INPUT', `Run "${name}" has no checkpoint to continue from.`);
    return this.d.host.start(
      dir,
      { name, stage: info.stage, preset: record.preset, resume: true, steps, minutes, ...distilOf(record) },
      record,
    );
  }

  async stop(name: string): Promise<TrainRunInfo> {
    const { dir, info } = await this.run(name);
    if (!this.d.host.isLive(dir, name)) throw new DinoscopeError('BAD_INPUT', `Run "${name}" is ${info.status}, not running.`);
    return this.d.host.stop(dir, name);
  }
}

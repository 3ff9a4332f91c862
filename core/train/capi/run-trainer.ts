// A CAPI run as the pretraining run loop drives it (run.ts RunTrainer): CapiTrainer's steps as the loop's
// RunStepReport (losses capi, clustering, total; the targets' entropy as the teacher entropy), its config
// re-planned by minutes budgets and extensions, and what the loop's hooks use of a pretraining trainer (the
// ViT, the EMA teacher's encoder: the model a run registers).
import type { HealthEntry } from '../health/monitor.js';
import type { HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import type { Project } from '../../project/project.js';
import type { TrainConfig } from '../config.js';
import type { Precision } from '../precision.js';
import type { RunTrainer } from '../run.js';
import type { RunStepReport } from '../step-report.js';
import { CapiTrainer, type CapiStepReport, type CapiTrainerOptions } from './trainer.js';

/** A CAPI step as the run loop, progress.jsonl and the job host read it. */
export function capiRunReport(r: CapiStepReport, config: TrainConfig): RunStepReport {
  const losses = { capi: r.losses.capi, clustering: r.losses.clustering, total: r.losses.total };
  return {
    step: r.step,
    losses,
    lr: r.schedule.lr,
    wd: r.schedule.wd,
    teacherTemp: config.capi.targetTemp,
    momentum: r.schedule.momentum,
    imagesPerSec: r.imagesPerSec / 2, // tiles per second, as a DINO step's: each of the B tiles gives 2 of the step's images
    gradNorms: {},
    signals: { teacherEntropy: r.targetEntropy, nan: !Object.values(losses).every(Number.isFinite) },
    ...(r.health ? { health: r.health } : {}),
  };
}

export class CapiRun implements RunTrainer {
  /** CAPI trains in float32 only (capi/README.md). */
  readonly precision: Precision = 'fp32';
  readonly label = 'capi';

  private constructor(readonly trainer: CapiTrainer) {}

  /** A new CAPI run on a project's images. */
  static async forProject(config: TrainConfig, project: Project, opts: CapiTrainerOptions = {}): Promise<CapiRun> {
    return new CapiRun(await CapiTrainer.forProject(config, project, opts));
  }

  /** The run saved in checkpoint folder `dir`, continued on the project's images. */
  static async resumeProject(dir: string, project: Project, opts: CapiTrainerOptions = {}): Promise<CapiRun> {
    return new CapiRun(await CapiTrainer.resumeProject(dir, project, opts));
  }

  get config(): TrainConfig {
    return this.trainer.config;
  }

  get completedSteps(): number {
    return this.trainer.completedSteps;
  }

  get vit(): ViTConfig {
    return this.trainer.vit;
  }

  /** K of the online clustering head. */
  get prototypes(): number {
    return this.trainer.config.capi.prototypes;
  }

  /** The EMA encoder's health now (the run loop's last step when a minutes budget ended the run early). */
  measureHealth(): Promise<HealthEntry | null> {
    return this.trainer.measureHealth();
  }

  async step(): Promise<RunStepReport> {
    return capiRunReport(await this.trainer.step(), this.trainer.config);
  }

  checkpoint(dir: string): Promise<void> {
    return this.trainer.checkpoint(dir);
  }

  setTotalSteps(steps: number): void {
    this.trainer.setTotalSteps(steps);
  }

  revise(next: TrainConfig): void {
    this.trainer.revise(next);
  }

  teacherBackbone(): Promise<Map<string, HostTensor>> {
    return this.trainer.teacherBackbone();
  }

  close(): Promise<void> {
    return this.trainer.close();
  }
}

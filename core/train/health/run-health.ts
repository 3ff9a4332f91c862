// Dense-feature health over one training run: the HealthMonitor started on the probe tiles of the run's
// first batch (or a checkpoint's), measured after step 1, every `health.every` steps and at the last step,
// and the history it keeps across resumes (saved with every checkpoint).
import type { RuntimeOptions } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import type { TrainConfig } from '../config.js';
import { type HealthEntry, HealthMonitor } from './monitor.js';

/** What a checkpoint keeps of it: the probe tiles (P, C, S, S) and the history. */
export interface SavedHealth {
  tiles: HostTensor;
  history: HealthEntry[];
}

export class RunHealth {
  private monitor: HealthMonitor | null = null;

  private constructor(
    private readonly config: TrainConfig,
    private readonly vit: ViTConfig,
    private readonly runtime: RuntimeOptions,
    /** The measurements of the run so far (across resumes); one array for the whole run. */
    readonly log: HealthEntry[],
  ) {}

  /** The run's health, continuing `saved` (a checkpoint's) when given. */
  static async create(
    config: TrainConfig,
    vit: ViTConfig,
    runtime: RuntimeOptions,
    saved: SavedHealth | null | undefined,
  ): Promise<RunHealth> {
    const h = new RunHealth(config, vit, runtime, [...(saved?.history ?? [])]);
    if (saved && config.health.every > 0) h.monitor = await HealthMonitor.create(vit, saved.tiles, h.options(), runtime, saved.history);
    return h;
  }

  /** Once per run (health on): the probe tiles from global crop 1 of the first `health.tiles` samples of `globalCrops` (2B, C, G, G). */
  async start(globalCrops: Float32Array, side: number): Promise<void> {
    if (this.monitor || this.config.health.every <= 0) return;
    const P = Math.min(this.config.health.tiles, this.config.batchSize);
    const C = this.vit.inChans;
    const tiles = hostTensor('float32', [P, C, side, side], globalCrops.slice(0, P * C * side * side));
    this.monitor = await HealthMonitor.create(this.vit, tiles, this.options(), this.runtime, this.log);
  }

  /** Whether the report of `step` (steps completed) gets a measurement: the first, every N-th, the last of
   * `total` (the run's length now: a minutes budget or an extension changes it after this was created). */
  due(step: number, total: number): boolean {
    const every = this.config.health.every;
    return this.monitor !== null && every > 0 && (step === 1 || step % every === 0 || step === total);
  }

  /** Measures the teacher `param(name)` after `step`; null before the probe tiles exist or with health off. */
  async measure(step: number, param: (name: string) => Promise<HostTensor>): Promise<HealthEntry | null> {
    if (!this.monitor) return null;
    const e = await this.monitor.measure(step, param);
    this.log.splice(0, this.log.length, ...this.monitor.history);
    return e;
  }

  saved(): SavedHealth | null {
    return this.monitor ? { tiles: this.monitor.tiles, history: [...this.log] } : null;
  }

  async release(): Promise<void> {
    await this.monitor?.release();
  }

  private options(): { perImage: number; radius: number; seed: number } {
    return { perImage: this.config.health.perImage, radius: this.config.health.radius, seed: this.config.seed };
  }
}

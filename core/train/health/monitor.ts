// Dense-feature health during a training run: the teacher's backbone on a fixed set of probe
// tiles every few steps → patch-similarity locality and the mean CLS–patch cosine (metrics.ts), kept as a
// history that the trainer saves with its checkpoints. The probe tiles are fixed for the whole run (the
// trainer takes them from the first batch and stores them), and so are the probe patches (selectProbes).
import { serialize } from '../../graph/onnx.js';
import { optimize } from '../../graph/optimize.js';
import { type RuntimeOptions, Session } from '../../graph/runtime.js';
import { type HostTensor } from '../../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../../model/config.js';
import { BACKBONE_IO, buildBackboneGraph } from '../teacher.js';
import { denseHealth } from './metrics.js';
import { type Probe, selectProbes } from './probes.js';

/** One evaluation (JSON-friendly: absent, not null): the step it followed and the metrics (metrics.ts). */
export interface HealthEntry {
  step: number;
  /** Mean share of a probe's positive similarity mass within `radius` patches of it. */
  locality: number;
  /** The even-spread baseline of `locality`. */
  uniformLocality: number;
  /** Share within the probe's own region (only with region labels). */
  region?: number;
  uniformRegion?: number;
  /** Mean CLS–patch cosine of the probe tiles. */
  clsPatchCosine: number;
  radius: number;
  probes: number;
}

export interface HealthOptions {
  perImage: number;
  radius: number;
  seed: number;
}

export class HealthMonitor {
  readonly history: HealthEntry[];

  private constructor(
    private readonly session: Session,
    private readonly vit: ViTConfig,
    /** (P, C, S, S) normalised probe tiles. */
    readonly tiles: HostTensor,
    private readonly probes: Probe[],
    private readonly opts: HealthOptions,
    history: HealthEntry[],
  ) {
    this.history = history;
  }

  /** A monitor over `tiles` (P, C, S, S); `history` continues a resumed run's. */
  static async create(
    vit: ViTConfig,
    tiles: HostTensor,
    opts: HealthOptions,
    runtime: RuntimeOptions,
    history: HealthEntry[] = [],
  ): Promise<HealthMonitor> {
    const [P, , S] = tiles.dims;
    const grid = patchGrid(vit, S, S);
    const margin = Math.min(1, Math.floor((Math.min(grid.h, grid.w) - 1) / 2));
    const perImage = Math.min(opts.perImage, (grid.h - 2 * margin) * (grid.w - 2 * margin));
    const probes = selectProbes(P, grid, perImage, opts.seed, margin);
    const graph = buildBackboneGraph(vit, P, S);
    optimize(graph);
    const session = await Session.create(serialize(graph), runtime);
    return new HealthMonitor(session, vit, tiles, probes, opts, [...history]);
  }

  /** Runs the backbone with `param(name)` values on the probe tiles and appends the metrics for `step`. */
  async measure(step: number, param: (name: string) => Promise<HostTensor>): Promise<HealthEntry> {
    const feeds = BACKBONE_IO.feeds({ images: this.tiles });
    for (const n of this.session.inputNames) if (!(n in feeds)) feeds[n] = await param(n);
    const out = BACKBONE_IO.read(await this.session.run(feeds));
    const [P, , S] = this.tiles.dims;
    const grid = patchGrid(this.vit, S, S);
    const r = denseHealth(out.patches.data as Float32Array, P, grid, this.vit.dim, this.probes, {
      radius: this.opts.radius,
      cls: out.cls.data as Float32Array,
    });
    const entry: HealthEntry = {
      step,
      locality: r.locality,
      uniformLocality: r.uniformLocality,
      ...(r.region !== null && r.uniformRegion !== null ? { region: r.region, uniformRegion: r.uniformRegion } : {}),
      clsPatchCosine: r.clsPatchCosine ?? NaN,
      radius: r.radius,
      probes: r.probes,
    };
    this.history.push(entry);
    return entry;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

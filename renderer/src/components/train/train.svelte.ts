// Training state of the window, alive while a project is open (not only while the panel shows): the
// project's runs, the run on screen with its recorded and live steps, its latest teacher preview and
// alert. Host events are received here once (attach), so closing the panel loses nothing.
import type {
  DistilStartOptions,
  TrainAlert,
  TrainPreview,
  TrainRunInfo,
  TrainStage,
  TrainStartOptions,
  TrainStepInfo,
} from '../../../../core/common/api.js';
import type { ApiClient } from '../../api/client.js';
import { toDinoscopeError } from '../../api/errors.js';
import { HISTORY_STEPS, StepBuffer } from './step-buffer.js';

/** What the setup form opens with: a stage (or 'distil': a distillation run) and the model to start from
 * (for 'distil': the teacher). */
export interface SetupRequest {
  stage: TrainStage | 'distil';
  from: string | null;
}

/** Least milliseconds between chart redraws while a run streams steps. Redrawing five curves of up to 1000
 * points and the health dots on each of the host's ≤ 10 events a second kept a page's main thread nine
 * tenths busy on a loaded 2-core machine (two pages with the panel open: clicks waited tens of seconds). */
export const CHART_INTERVAL_MS = 500;

export class TrainState {
  open = $state(false);
  /** The run on screen; null shows the setup form. */
  view = $state<string | null>(null);
  /** Counts the choices of what the panel shows (select, showSetup), so show() never undoes a newer one. */
  private navigations = 0;
  /** Bumped when the setup form must reset to `setup` (a model row's "Adapt to high resolution"). */
  setup = $state.raw<SetupRequest & { seq: number }>({ stage: 'pretrain', from: null, seq: 0 });
  runs = $state.raw<TrainRunInfo[]>([]);
  preview = $state.raw<TrainPreview | null>(null);
  alert = $state.raw<TrainAlert | null>(null);
  loadingHistory = $state(false);
  error = $state<string | null>(null);
  /** The steps of the run on screen, in step order, thinned to a bounded count (step-buffer.ts): a fresh
   * array at most every CHART_INTERVAL_MS while steps stream in (the charts redraw from it). */
  steps = $state.raw<readonly TrainStepInfo[]>([]);
  /** The latest step of the run on screen, on every live event (≤ 10/s): the header's step, ETA and rates. */
  last = $state.raw<TrainStepInfo | null>(null);
  private buf = new StepBuffer();
  private chartTimer: ReturnType<typeof setTimeout> | null = null;
  private chartAt = 0;
  private api: ApiClient | null = null;
  private off: (() => void)[] = [];
  private notify: (kind: 'error' | 'info', text: string) => void = () => {};

  get current(): TrainRunInfo | null {
    return this.runs.find((r) => r.name === this.view) ?? null;
  }

  /** Subscribes to the host's training events (once per client). */
  attach(api: ApiClient, notify: (kind: 'error' | 'info', text: string) => void): void {
    if (this.api === api) return;
    this.detach();
    this.api = api;
    this.notify = notify;
    this.off = [
      api.on('trainRun', (r) => this.upsert(r)),
      api.on('trainStep', (s) => {
        if (s.run === this.view) this.push(s);
      }),
      api.on('trainPreview', (p) => {
        if (p.run === this.view) this.preview = p;
      }),
      api.on('trainAlert', (a) => {
        if (a.run === this.view) this.alert = a;
        // The panel's banner says it when it shows this run; otherwise a notice does.
        if (!this.open || a.run !== this.view) this.notify('error', `Training run ${a.run}: ${a.message}`);
      }),
    ];
  }

  /** Unsubscribes and forgets the project's runs (the project closed). */
  detach(): void {
    for (const f of this.off) f();
    this.off = [];
    this.api = null;
    this.open = false;
    this.view = null;
    this.runs = [];
    this.preview = null;
    this.alert = null;
    this.error = null;
    this.buf.clear();
    this.publish();
  }

  /** Opens the panel on the live run, else the latest run, else the setup form — unless the user chose
   * something (New run, a run) while the run list was loading: their choice stands. */
  async show(): Promise<void> {
    this.open = true;
    const chosen = this.navigations;
    await this.refreshRuns();
    if (this.navigations !== chosen) return;
    const live = this.runs.find((r) => r.status === 'running' || r.status === 'paused');
    const latest = [...this.runs].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    const pick = this.view && this.runs.some((r) => r.name === this.view) ? this.view : ((live ?? latest)?.name ?? null);
    if (pick) await this.select(pick);
  }

  /** Opens the panel's setup form for `req` (a model row's "Adapt to high resolution"). */
  async showSetup(req: SetupRequest): Promise<void> {
    this.navigations++;
    this.setup = { ...req, seq: this.setup.seq + 1 };
    this.view = null;
    this.open = true;
    await this.refreshRuns();
  }

  close(): void {
    this.open = false;
  }

  async refreshRuns(): Promise<void> {
    if (!this.api) return;
    try {
      this.runs = await this.api.trainingRuns();
      this.error = null;
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
  }

  /** Shows a run: its recorded steps, then live ones as they come. */
  async select(name: string | null): Promise<void> {
    this.navigations++;
    if (name === this.view && (name === null || this.buf.length)) return;
    this.view = name;
    this.buf.clear();
    this.preview = null;
    this.alert = null;
    this.publish();
    if (!name) return;
    await this.loadHistory(name);
  }

  /** Reads the run's recorded steps (all of them, thinned by the host to HISTORY_STEPS: the live events skip
   * some) and merges the live ones. */
  private async loadHistory(name: string): Promise<void> {
    if (!this.api) return;
    this.loadingHistory = true;
    try {
      const history = await this.api.trainingHistory(name, HISTORY_STEPS);
      if (this.view !== name) return;
      this.buf.load(history);
      this.publish();
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    } finally {
      this.loadingHistory = false;
    }
  }

  async start(options: TrainStartOptions): Promise<TrainRunInfo | null> {
    if (!this.api) return null;
    const run = await this.api.startTraining(options);
    this.upsert(run);
    await this.select(run.name);
    return run;
  }

  /** Starts a distillation run and shows it (its curves and previews as any run's). */
  async startDistil(options: DistilStartOptions): Promise<TrainRunInfo | null> {
    if (!this.api) return null;
    const run = await this.api.startDistillation(options);
    this.upsert(run);
    await this.select(run.name);
    return run;
  }

  async pause(name: string): Promise<void> {
    await this.act(name, (api) => api.pauseTraining(name));
  }

  async resume(name: string): Promise<void> {
    const alert = this.alert;
    // The alert goes once the host has taken the resume (it refuses while the run is still pausing).
    if (await this.act(name, (api) => api.resumeTraining(name))) {
      if (this.alert === alert && alert?.run === name) this.alert = null;
    }
  }

  async stop(name: string): Promise<void> {
    await this.act(name, (api) => api.stopTraining(name));
  }

  /** More minutes for a finished run: it continues from its checkpoint, its schedules re-planned. */
  async extend(name: string, minutes: number): Promise<void> {
    await this.act(name, (api) => api.extendTraining(name, { minutes }));
  }

  /** Runs a control call and shows its run; false when the host refused it (the error is shown). */
  private async act(name: string, work: (api: ApiClient) => Promise<TrainRunInfo>): Promise<boolean> {
    if (!this.api) return false;
    let ok = false;
    try {
      this.upsert(await work(this.api));
      this.error = null;
      ok = true;
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
    if (this.view !== name) await this.select(name);
    return ok;
  }

  private upsert(r: TrainRunInfo): void {
    const at = this.runs.findIndex((x) => x.name === r.name);
    // A control call's answer can arrive after the event of the change it caused (resume → 'running'):
    // an older snapshot never replaces a newer one.
    if (at >= 0 && this.runs[at].updatedAt > r.updatedAt) return;
    const was = at < 0 ? null : this.runs[at].status;
    this.runs = at < 0 ? [r, ...this.runs] : this.runs.map((x, i) => (i === at ? r : x));
    // A run that paused or ended: redraw its curves from the full record.
    if (r.name === this.view && was !== r.status && r.status !== 'running') void this.loadHistory(r.name);
    // An alert holds until the user resumes (train.resume) or the run ends; a 'running' record can still
    // arrive between the alert and the pause it announces.
    if (this.alert?.run === r.name && (r.status === 'stopped' || r.status === 'done' || r.status === 'failed')) this.alert = null;
  }

  /** A live step: the header at once, the charts at most every CHART_INTERVAL_MS (the last step always
   * reaches them). */
  private push(s: TrainStepInfo): void {
    this.buf.push(s);
    this.last = s;
    const wait = CHART_INTERVAL_MS - (performance.now() - this.chartAt);
    if (wait <= 0) this.publish();
    else this.chartTimer ??= setTimeout(() => this.publish(), wait);
  }

  private publish(): void {
    if (this.chartTimer) clearTimeout(this.chartTimer);
    this.chartTimer = null;
    this.chartAt = performance.now();
    this.steps = this.buf.snapshot();
    this.last = this.steps[this.steps.length - 1] ?? null;
  }
}

export const train = new TrainState();

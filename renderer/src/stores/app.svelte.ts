// The app's state: the host, the open project, the selected image, running jobs and the last error.
// One instance per window, created in main.ts and handed to components through context (context.ts).
// Project and job lists are replaced whole, never mutated, so they live in $state.raw.
import type {
  AppInfo,
  ImageEntry,
  ImportReport,
  JobProgress,
  MenuCommand,
  OverlayInfo,
  ProjectSummary,
  RecentProject,
} from '../../../core/common/api.js';
import type { ApiClient, DroppedFile } from '../api/client.js';
import { toDinoscopeError } from '../api/errors.js';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export class AppStore {
  info = $state.raw<AppInfo | null>(null);
  project = $state.raw<ProjectSummary | null>(null);
  recent = $state.raw<RecentProject[]>([]);
  jobs = $state.raw<JobProgress[]>([]);
  notices = $state.raw<Notice[]>([]);
  selectedId = $state<string | null>(null);
  /** Overlays the UI itself asked to show (analysis results), beyond those api.overlays lists. */
  extraOverlays = $state.raw<OverlayInfo[]>([]);
  busy = $state(false);
  /** What the viewer shows: its visible rectangle in level-0 pixels of `imageId` (not clamped to the image). */
  viewport = $state.raw<{ imageId: string; x: number; y: number; width: number; height: number } | null>(null);

  readonly selected: ImageEntry | null = $derived(this.project?.images.find((i) => i.id === this.selectedId) ?? null);
  readonly activeJobs: JobProgress[] = $derived(this.jobs.filter((j) => j.state === 'running'));
  /** Opened with the serve host's viewer link: the UI offers only what reads (the host refuses the rest). */
  readonly viewer: boolean = $derived(this.info?.role === 'viewer');
  /** Readable images whose file states no pixel size and that have none stated (the import prompt counts them). */
  readonly withoutMpp: ImageEntry[] = $derived(
    this.project?.images.filter((i) => (i.status === 'ok' || i.status === 'caching') && i.meta && !i.meta.mpp) ?? [],
  );
  /** The "state one for all" prompt was put aside ("Later"); shown again after the next import. */
  mppPromptHidden = $state(false);

  private nextNotice = 1;

  constructor(readonly api: ApiClient) {
    api.on('projectChanged', (p) => this.setProject(p));
    api.on('jobProgress', (j) => this.updateJob(j));
    api.on('menuCommand', ({ command }) => void this.menu(command));
  }

  /** The Electron app menu's commands, carried out with the native dialogs. */
  async menu(command: MenuCommand): Promise<void> {
    if (!this.info?.nativeDialogs) return;
    if (command === 'import-images') {
      if (this.project) await this.importPaths(await this.api.showOpenDialog('images'));
      return;
    }
    const [path] = await this.api.showOpenDialog('project');
    if (!path) return;
    if (command === 'new-project') await this.createProject(path);
    else await this.openProject(path);
  }

  async start(): Promise<void> {
    await this.guard(async () => {
      const [info, recent, current, running] = await Promise.all([
        this.api.appInfo(),
        this.api.recentProjects(),
        this.api.currentProject(),
        this.api.runningJobs(),
      ]);
      this.info = info;
      this.recent = recent;
      if (current) this.setProject(current);
      // Work started before this window opened (from another browser, or before a reload); an event that
      // arrived meanwhile is newer than the list.
      this.jobs = [...this.jobs, ...running.filter((r) => !this.jobs.some((j) => j.jobId === r.jobId))];
    });
  }

  async createProject(path: string, name?: string): Promise<void> {
    await this.guard(async () => this.setProject(await this.api.createProject(path, name)));
  }

  async openProject(path: string): Promise<void> {
    await this.guard(async () => this.setProject(await this.api.openProject(path)));
  }

  async closeProject(): Promise<void> {
    await this.guard(async () => {
      this.recent = await this.api.recentProjects();
    });
    this.project = null;
    this.selectedId = null;
  }

  async importPaths(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.guard(async () => {
      this.report(await this.api.importPaths(paths));
      this.mppPromptHidden = false;
      await this.refresh();
    });
  }

  async importDropped(files: DroppedFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.guard(async () => {
      this.report(await this.api.importDropped(files));
      this.mppPromptHidden = false;
      await this.refresh();
    });
  }

  async removeImage(id: string): Promise<void> {
    await this.guard(async () => this.setProject(await this.api.removeImage(id)));
  }

  /** States the pixel size (µm/px) of `imageIds`, or of every image without one; null clears a stated one. */
  async setImageMpp(mpp: number | null, imageIds?: string[]): Promise<boolean> {
    let ok = false;
    await this.guard(async () => {
      const r = await this.api.setImageMpp({ mpp, ...(imageIds && { imageIds }) });
      this.setProject(r.project);
      const n = r.changed.length;
      const what = mpp === null ? 'Cleared the stated pixel size of' : `Stated ${mpp} µm/px for`;
      this.notify('info', `${what} ${n} image${n === 1 ? '' : 's'}.`);
      ok = true;
    });
    return ok;
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.guard(() => this.api.cancelJob(jobId));
  }

  /** The overlay-layer API for the rest of the UI: shows `info` over its image (now, or when it is
   * opened), visible, in the layers panel. Adding the same id again replaces it. */
  addOverlay(info: OverlayInfo): void {
    this.extraOverlays = [...this.extraOverlays.filter((o) => !(o.id === info.id && o.imageId === info.imageId)), info];
  }

  removeOverlay(imageId: string, id: string): void {
    this.extraOverlays = this.extraOverlays.filter((o) => !(o.id === id && o.imageId === imageId));
  }

  select(id: string | null): void {
    this.selectedId = id;
  }

  /** Moves the selection by `step` through the collection's viewable images (the [ and ] keys). */
  step(step: 1 | -1): void {
    const ok = this.project?.images.filter((i) => i.status === 'ok') ?? [];
    if (ok.length === 0) return;
    const at = ok.findIndex((i) => i.id === this.selectedId);
    const next = at < 0 ? 0 : (at + step + ok.length) % ok.length;
    this.selectedId = ok[next].id;
  }

  notify(kind: Notice['kind'], text: string): void {
    const notice = { id: this.nextNotice++, kind, text };
    this.notices = [...this.notices, notice].slice(-4);
    setTimeout(() => this.dismiss(notice.id), kind === 'error' ? 12_000 : 5_000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Re-reads the project (hosts also push projectChanged; this covers a missed event). */
  private async refresh(): Promise<void> {
    const p = await this.api.currentProject();
    if (p) this.setProject(p);
  }

  private setProject(p: ProjectSummary): void {
    this.project = p;
    if (this.selectedId && !p.images.some((i) => i.id === this.selectedId)) this.selectedId = null;
  }

  private updateJob(j: JobProgress): void {
    const others = this.jobs.filter((x) => x.jobId !== j.jobId);
    this.jobs = [...others, j];
    if (j.state !== 'running') {
      if (j.state === 'failed') this.notify('error', j.message ?? `${j.label} failed.`);
      // Finished jobs leave the bar after a moment.
      setTimeout(() => (this.jobs = this.jobs.filter((x) => x.jobId !== j.jobId || x.state === 'running')), 1500);
    }
  }

  private report(r: ImportReport): void {
    const parts = [`Imported ${r.added.length} image${r.added.length === 1 ? '' : 's'}`];
    if (r.skipped.length) parts.push(`${r.skipped.length} already in the project`);
    if (r.failed.length) parts.push(`${r.failed.length} could not be read`);
    this.notify(r.failed.length ? 'error' : 'info', parts.join(', ') + '.');
    if (!this.selectedId) {
      const first = r.added.find((i) => i.status === 'ok');
      if (first) this.selectedId = first.id;
    }
  }

  private async guard(work: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await work();
    } catch (err) {
      this.notify('error', toDinoscopeError(err).message);
    } finally {
      this.busy = false;
    }
  }
}

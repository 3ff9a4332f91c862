// The server side of the API contract, shared by both hosts (the serve host and Electron's main process).
// Hosts construct it with their hooks (URL templates they serve, native dialogs) and expose it over their
// transport; they route asset URLs through core/tiles/router.ts, which calls tile/thumbnail/overlayTile.
import { rm } from 'node:fs/promises';
import { platform } from 'node:process';
import { type AlignEstimate, type AlignRequest, type AlignSummary, DIALOG_KINDS, type DialogKind } from '../common/api.js';
import type {
  AnalysisExportRequest,
  AnalysisExportResult,
  AppInfo,
  AttentionRequest,
  CatalogueModelInfo,
  ClusterOverlayOptions,
  ClusterRegionInfo,
  ExtractEstimate,
  ExtractOptions,
  ExtractSummary,
  ModelDownloadOptions,
  ModelImportOptions,
  ModelInfo,
  DinoscopeApi,
  DirectoryListing,
  ImportReport,
  JobProgress,
  OverlayInfo,
  PcaOverlayOptions,
  ProjectSummary,
  RecentProject,
  SetImageMppRequest,
  SetImageMppResult,
  SimilarityHeatmap,
  SimilarityRequest,
  TextQueryRequest,
  SimilarityResult,
  TileSourceInfo,
  TrainEstimate,
  TrainHardware,
  TrainPresetInfo,
  TrainExtendOptions,
  TrainRunInfo,
  TrainStartOptions,
  DistilStartOptions,
  TrainStepInfo,
  DemoOptions,
  CurateRequest,
  CuratedSetInfo,
  CuratedSetPreview,
  ChannelDisplay,
  ChannelHistogram,
  ChannelState,
  ImageMetadata,
} from '../common/api.js';
import type { ImageReader } from '../data/reader.js';
import { checkDisplay, displayKey, readerDefaultDisplay, readerHistograms } from '../data/channels/display.js';
import { AnalysisService } from '../analysis/service.js';
import { currentClient } from './caller.js';
import { setImageMppRequest } from '../common/api-schema.js';
import { DinoscopeError } from '../common/errors.js';
import { regionMaps } from '../features/extract/attention.js';
import { TileModel } from '../features/extract/model.js';
import { checkDevice, chooseDevice } from '../features/extract/device.js';
import { estimateExtraction } from '../features/extract/estimate.js';
import { checkExtractOptions, extractFeatures, featureSetId } from '../features/extract/project.js';
import { deleteFeatureSet, useFeatureSet } from '../features/sets.js';
import { curate } from '../features/curation/curate.js';
import { curatedTilesPath } from '../features/curation/curated-tiles.js';
import { curatedSetInfo, curatedSetPreview, listCuratedSets } from '../features/curation/sets.js';
import { readTileList } from '../data/train/tile-list.js';
import { workingResolution } from '../features/extract/resolution.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { TrainingApi } from '../train/host/api.js';
import { TrainingHost } from '../train/host/host.js';
import { estimateAlign, prepareAlign, runAlign } from '../train/align/run.js';
import { importPaths, readablePath, resumeCaching, type ImageFormats } from '../project/importer.js';
import { imageMeta, Project } from '../project/project.js';
import { readRecent, touchRecent } from '../project/recent.js';
import { dziGeometry, TILE_SIZE } from '../tiles/dzi.js';
import type { AssetSource } from '../tiles/router.js';
import { HeatmapOverlay, HeatmapStore } from '../tiles/overlays/attention.js';
import { TileService, type TileImage } from '../tiles/tile-service.js';
import { optionalString, requireAbsolutePath, requireString, requireStringArray } from './args.js';
import { listDirectory } from './directory.js';
import { TypedEmitter } from '../common/emitter.js';
import { defaultFormats } from './formats.js';
import { hostTrainer } from '../demo/host-train.js';
import { demoPlan } from '../demo/options.js';
import { runDemo } from '../demo/pipeline.js';

export interface AppHostHooks {
  host: 'serve' | 'electron';
  version: string;
  /** URL templates the host serves; tile and overlay templates contain {level}, {x} and {y}. */
  urls: {
    tile(imageId: string): string;
    thumbnail(imageId: string): string;
    overlay(imageId: string, overlayId: string): string;
  };
  /** Native open dialogs (Electron); absent on the serve host. */
  showOpenDialog?(kind: DialogKind): Promise<string[]>;
  /** Where listDirectory(null) starts. */
  homeDir: string;
  /** The image layer; core/data's registry unless a host overrides it. */
  formats?: ImageFormats;
  /** Bound of the encoded-tile cache in bytes. */
  tileCacheBytes?: number;
}

/** The URL templates of core/tiles/router.ts, for hosts that serve it at their origin's root. */
export const rootAssetUrls: AppHostHooks['urls'] = {
  tile: (id) => `/tiles/${id}/{level}/{x}_{y}.jpeg`,
  thumbnail: (id) => `/thumbs/${id}.jpg`,
  overlay: (id, overlayId) => `/overlays/${id}/${overlayId}/{level}/{x}_{y}.png`,
};

/** The overlays drawn from each client's analysis layers (core/analysis/service.ts). */
const ANALYSIS_LAYERS = new Set(['similarity', 'pca', 'clusters']);

export class AppService implements DinoscopeApi, AssetSource {
  readonly jobs = new JobRegistry();
  /** Model folders (user and project); see core/model/manager. */
  readonly models = new ModelManager({ projectDir: () => this.project?.dir ?? null, jobs: this.jobs });
  private readonly events = new TypedEmitter();
  /** Training runs, each in a child process (core/train/host); the main thread never trains. */
  readonly training = new TrainingHost({
    jobs: this.jobs,
    emit: (event, payload) => this.events.emit(event, payload),
    // Children write run records into project.json (Project.update): the open Project re-reads it to show them.
    onRecord: (dir) => {
      if (this.project?.dir === dir) void this.project.reload().catch(() => undefined);
    },
  });
  private readonly trainingApi = new TrainingApi({ host: this.training, models: this.models, project: () => this.requireProject() });
  private readonly formats: ImageFormats;
  private project: Project | null = null;
  private tilesService: TileService | null = null;
  /** Default channel displays and histograms of multi-channel images, by kind, image and file. */
  private readonly channelStatsCache = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<void>>();
  /** Similarity, PCA, clusters and exports of the open project (core/analysis). */
  private analysisService: AnalysisService | null = null;
  /** Attention / token-norm maps computed on request (core/tiles/overlays/attention.ts). */
  readonly heatmaps = new HeatmapStore();
  private mapModel: { key: string; model: Promise<TileModel> } | null = null;
  /** Feature sets an extraction is writing now (they cannot be deleted meanwhile). */
  private readonly extracting = new Map<string, number>();

  constructor(private readonly hooks: AppHostHooks) {
    this.formats = hooks.formats ?? defaultFormats;
    this.jobs.on((p) => this.events.emit('jobProgress', p));
  }

  /** Subscribe to a DinoscopeEvents event; returns the unsubscribe function. */
  on: TypedEmitter['on'] = (event, listener) => this.events.on(event, listener);

  // ---- projects ----

  async appInfo(): Promise<AppInfo> {
    return { version: this.hooks.version, host: this.hooks.host, platform, nativeDialogs: this.hooks.showOpenDialog !== undefined };
  }

  async recentProjects(): Promise<RecentProject[]> {
    return readRecent();
  }

  async createProject(path: string, name?: string): Promise<ProjectSummary> {
    const project = await Project.create(requireAbsolutePath(path, 'The project path'), optionalString(name, 'The project name'));
    return this.setProject(project);
  }

  async openProject(path: string): Promise<ProjectSummary> {
    const project = await Project.open(requireAbsolutePath(path, 'The project path'));
    await project.checkSources();
    const summary = await this.setProject(project);
    this.track(resumeCaching({ project, formats: this.formats, jobs: this.jobs, changed: () => this.changed(project) }));
    void this.analysis().warm(); // index + scan threads in the background, so the first click is not slower
    return summary;
  }

  async currentProject(): Promise<ProjectSummary | null> {
    return this.project ? this.project.summary() : null;
  }

  /** The open project (host-side code such as uploads), or a BAD_INPUT error. */
  requireProject(): Project {
    if (!this.project) throw new DinoscopeError('BAD_INPUT', 'No project is open: create or open a project first.');
    return this.project;
  }

  async importPaths(paths: string[]): Promise<ImportReport> {
    const list = requireStringArray(paths, 'paths');
    const project = this.requireProject();
    const { report, background } = await importPaths(
      { project, formats: this.formats, jobs: this.jobs, changed: () => this.changed(project) },
      list,
    );
    this.track(background);
    return report;
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Settles when every background job started so far (pyramid caches) has finished. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  async removeImage(imageId: string): Promise<ProjectSummary> {
    const project = this.requireProject();
    const id = requireString(imageId, 'imageId');
    project.requireImage(id);
    await this.tilesService?.invalidate(id);
    await project.update((p) => p.remove(id));
    await rm(project.thumbnailPath(id), { force: true });
    await rm(project.tissueMaskPath(id), { force: true });
    this.changed(project);
    return project.summary();
  }

  async setImageMpp(request: SetImageMppRequest): Promise<SetImageMppResult> {
    const r = setImageMppRequest.parse(request);
    const project = this.requireProject();
    const changed = await project.update((p) => {
      const ids =
        r.imageIds ??
        p
          .images()
          .filter((i) => (i.status === 'ok' || i.status === 'caching') && i.meta && !i.meta.mpp && i.statedMpp === undefined)
          .map((i) => i.id);
      const out: string[] = [];
      for (const id of ids) {
        const before = p.requireImage(id).statedMpp ?? null;
        p.setStatedMpp(id, r.mpp);
        if (before !== r.mpp) out.push(id);
      }
      return out;
    });
    // The viewer's scale bar and magnification come from the tile source: drop what the tile host holds.
    for (const id of changed) await this.tilesService?.invalidate(id);
    return { changed, project: this.changed(project) };
  }

  async listDirectory(path: string | null): Promise<DirectoryListing> {
    return listDirectory(path === null || path === undefined ? this.hooks.homeDir : requireAbsolutePath(path, 'The folder path'));
  }

  async showOpenDialog(kind: DialogKind): Promise<string[]> {
    if (!DIALOG_KINDS.includes(kind))
      throw new DinoscopeError('BAD_INPUT', `Dialog kind must be one of ${DIALOG_KINDS.join(', ')} (got ${JSON.stringify(kind)}).`);
    if (!this.hooks.showOpenDialog)
      throw new DinoscopeError('UNSUPPORTED', `The ${this.hooks.host} host has no native dialogs: browse with listDirectory.`);
    return this.hooks.showOpenDialog(kind);
  }

  async cancelJob(jobId: string): Promise<void> {
    this.jobs.cancel(requireString(jobId, 'jobId'));
  }

  async runningJobs(): Promise<JobProgress[]> {
    return this.jobs.running();
  }

  // ---- models (core/model/manager) ----

  async listModels(): Promise<ModelInfo[]> {
    return this.models.list();
  }

  async modelCatalogue(): Promise<CatalogueModelInfo[]> {
    return this.models.catalogue();
  }

  async importModel(path: string, options?: ModelImportOptions): Promise<ModelInfo> {
    return this.models.importAsJob(requireAbsolutePath(path, 'The model path'), modelOptions(options));
  }

  async downloadModel(source: string, options?: ModelDownloadOptions): Promise<ModelInfo> {
    const o = modelOptions(options);
    return this.models.downloadAsJob(requireString(source, 'The model source'), {
      ...o,
      ...(options?.token !== undefined ? { token: requireString(options.token, 'The access token') } : {}),
      ...(options?.sha256 !== undefined ? { sha256: requireString(options.sha256, 'The sha256') } : {}),
    });
  }

  async deleteModel(id: string): Promise<void> {
    await this.models.remove(requireString(id, 'The model id'));
  }

  // ---- features (core/features/extract) ----

  async extractFeatures(options: ExtractOptions): Promise<ExtractSummary> {
    const o = checkExtractOptions(options);
    const project = this.requireProject();
    await this.models.find(o.modelId);
    const setId = featureSetId(o.modelId, o);
    this.extracting.set(setId, (this.extracting.get(setId) ?? 0) + 1);
    let summary: ExtractSummary;
    try {
      summary = await this.jobs.run('extract', `Extract features (${o.modelId})`, 0, (job) =>
        extractFeatures(project, this.models, o, {
          signal: job.signal,
          progress: (done, total, message) => job.progress(done, total, message),
        }),
      );
    } finally {
      const n = (this.extracting.get(setId) ?? 1) - 1;
      if (n > 0) this.extracting.set(setId, n);
      else this.extracting.delete(setId);
      // A cancelled run leaves its partial set listed (a rerun resumes it).
      this.changed(project);
    }
    // The collection now knows which images are searchable (ImageEntry.hasFeatures).
    this.changed(project);
    if (project === this.project) void this.analysis().warm(); // reload the grown index before the next click
    return summary;
  }

  async extractEstimate(options: ExtractOptions): Promise<ExtractEstimate> {
    const o = checkExtractOptions(options);
    const model = await this.models.find(o.modelId);
    const device = await chooseDevice(checkDevice(o.device));
    return estimateExtraction(this.requireProject(), model, o, device.providers[0], await this.models.list());
  }

  // ---- feature sets (core/features/sets.ts) ----

  async setActiveFeatureSet(id: string): Promise<ProjectSummary> {
    const project = this.requireProject();
    await useFeatureSet(project, requireString(id, 'The feature set id'));
    if (this.analysisService?.project === project) this.analysisService.forget();
    if (project === this.project) void this.analysis().warm();
    return this.changed(project);
  }

  async deleteFeatureSet(id: string): Promise<ProjectSummary> {
    const project = this.requireProject();
    const setId = requireString(id, 'The feature set id');
    if (this.extracting.has(setId))
      throw new DinoscopeError(
        'BAD_INPUT',
        `Feature set "${setId}" is being extracted now: cancel the extraction (job bar) before deleting it.`,
      );
    await deleteFeatureSet(project, setId);
    if (this.analysisService?.project === project) this.analysisService.forget();
    return this.changed(project);
  }

  async attentionMaps(imageId: string, request: AttentionRequest): Promise<OverlayInfo[]> {
    const id = requireString(imageId, 'imageId');
    const img = this.locate(id);
    const entry = this.requireProject().requireImage(id);
    const meta = imageMeta(entry)!;
    const r = request as AttentionRequest | undefined;
    if (
      !r ||
      typeof r !== 'object' ||
      typeof r.modelId !== 'string' ||
      ![r.x, r.y, r.width, r.height].every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      throw new DinoscopeError('BAD_INPUT', 'An attention request needs modelId and a region x, y, width, height in image pixels.');
    const key = r.modelId;
    // A job like the others: progress (the model, then tiles) in the job bar, and Cancel between tiles.
    await this.jobs.run('attention-maps', `Attention maps: ${entry.name}`, 0, async (job) => {
      if (this.mapModel?.key !== key) {
        job.progress(0, 0, `preparing model ${key}`);
        const loading = this.models
          .load(key)
          .then((l) =>
            TileModel.create(l.config, l.tensors, { batch: 1, side: 16 * l.config.patchSize, outputs: ['attention', 'tokenNorms'] }),
          );
        loading.catch(() => (this.mapModel = null));
        this.mapModel = { key, model: loading };
      }
      const model = await this.mapModel.model;
      job.throwIfCancelled();
      const res = workingResolution(meta, r.mpp !== undefined ? { mpp: r.mpp } : { level: r.level ?? 0 }, model.config.patchSize, img.path);
      const reader = await this.formats.openImage(img.path);
      try {
        const maps = await regionMaps(reader, res, model, r, img.path, {
          signal: job.signal,
          progress: (done, total) => job.progress(done, total, `tile ${done}/${total}`),
        });
        const at = { x: maps.x, y: maps.y, stride: maps.stride, gridWidth: maps.gridWidth, gridHeight: maps.gridHeight };
        this.heatmaps.set(id, 'attention', { ...at, values: maps.attention, unit: '× uniform' });
        this.heatmaps.set(id, 'token-norm', { ...at, values: maps.tokenNorms, unit: '' });
      } finally {
        await reader.close();
      }
    });
    await this.tilesService?.invalidate(id);
    return (await this.overlays(id)).filter((o) => o.id === 'attention' || o.id === 'token-norm');
  }

  // ---- analysis (core/analysis) ----

  async similarityQuery(request: SimilarityRequest): Promise<SimilarityResult> {
    return this.analysis().similarityQuery(request);
  }

  async textQuery(request: TextQueryRequest): Promise<SimilarityResult> {
    return this.analysis().textQuery(request);
  }

  async similarityHeatmap(imageId: string): Promise<SimilarityHeatmap> {
    return this.analysis().similarityHeatmap(requireString(imageId, 'imageId'));
  }

  async pcaOverlay(imageId: string, options?: PcaOverlayOptions): Promise<OverlayInfo> {
    return this.analysis().pcaOverlay(requireString(imageId, 'imageId'), options ?? {});
  }

  async clusterOverlay(imageId: string, k: number, options?: ClusterOverlayOptions): Promise<OverlayInfo> {
    return this.analysis().clusterOverlay(requireString(imageId, 'imageId'), k, options ?? {});
  }

  async clusterRegions(clusterId: number): Promise<ClusterRegionInfo[]> {
    return this.analysis().clusterRegions(clusterId);
  }

  async exportAnalysis(request: AnalysisExportRequest): Promise<AnalysisExportResult> {
    return this.analysis().exportAnalysis(request);
  }

  // ---- training (issues 5 and 7): core/train/host runs each run in a child process ----

  async trainPresets(): Promise<TrainPresetInfo[]> {
    return this.trainingApi.presets();
  }
  async trainHardware(): Promise<TrainHardware> {
    return this.trainingApi.hardware();
  }
  async trainEstimate(options: TrainStartOptions): Promise<TrainEstimate> {
    return this.trainingApi.estimate(options);
  }
  async startTraining(options: TrainStartOptions): Promise<TrainRunInfo> {
    return this.trainingApi.start(options);
  }
  async distilEstimate(options: DistilStartOptions): Promise<TrainEstimate> {
    return this.trainingApi.estimateDistil(options);
  }
  async startDistillation(options: DistilStartOptions): Promise<TrainRunInfo> {
    return this.trainingApi.startDistil(options);
  }
  async trainingRuns(): Promise<TrainRunInfo[]> {
    return this.trainingApi.runs();
  }
  async trainingHistory(run: string, maxSteps?: number): Promise<TrainStepInfo[]> {
    return this.trainingApi.history(run, maxSteps);
  }
  async pauseTraining(run: string): Promise<TrainRunInfo> {
    return this.trainingApi.pause(run);
  }
  async resumeTraining(run: string): Promise<TrainRunInfo> {
    return this.trainingApi.resume(run);
  }
  async stopTraining(run: string): Promise<TrainRunInfo> {
    return this.trainingApi.stop(run);
  }
  async extendTraining(run: string, options: TrainExtendOptions): Promise<TrainRunInfo> {
    return this.trainingApi.extend(run, options);
  }
  /** core/demo: sample slides, a project, a Quick run on the training job host, features; then opens it. */
  async startDemo(options?: DemoOptions): Promise<ProjectSummary> {
    const plan = demoPlan(options, this.hooks.homeDir);
    if (this.jobs.running().some((j) => j.kind === 'demo'))
      throw new DinoscopeError('BAD_INPUT', 'The demo is already running: wait for it or cancel it first.');
    const train = hostTrainer(this.training, this.on);
    await this.jobs.run('demo', 'Demo', 1000, (job) =>
      runDemo(plan, {
        signal: job.signal,
        progress: (done, total, message) => job.progress(done, total, message),
        formats: this.formats,
        train,
        log: () => undefined,
      }),
    );
    return this.openProject(plan.dir);
  }

  // ---- curated training tiles (core/features/curation) ----

  async curateTiles(request: CurateRequest): Promise<CuratedSetInfo> {
    const project = this.requireProject();
    const name = request.name ?? 'curated';
    const stages = ['candidate tiles', 'near-duplicates', 'tiles picked'];
    await this.jobs.run('curate', `Curate training tiles (${name})`, stages.length, async (job) => {
      job.progress(0, stages.length, 'Embedding candidate tiles');
      return curate(
        project,
        {
          set: request.set,
          name,
          target: request.tiles,
          tilePatches: request.tilePatches,
          dedupThreshold: request.dedup,
          levels: request.levels,
          perImageCap: request.imageCap,
          seed: request.seed,
        },
        (line) => {
          const stage = stages.findIndex((s) => line.includes(s));
          if (stage >= 0) job.progress(stage + 1, stages.length, line.replace(/^curation: /, ''));
        },
      );
    });
    return curatedSetInfo(name, await readTileList(curatedTilesPath(project, name)));
  }

  async curatedSets(): Promise<CuratedSetInfo[]> {
    return listCuratedSets(this.requireProject());
  }

  async curatedSetPreview(name: string, perCluster?: number): Promise<CuratedSetPreview> {
    return curatedSetPreview(this.requireProject(), name, perCluster);
  }

  // ---- LiT alignment of a model's text tower (core/train/align) ----

  private alignChecked(request: AlignRequest): AlignRequest {
    return {
      ...request,
      pairs: requireAbsolutePath(request.pairs, 'The pairs file'),
      ...(request.vocab !== undefined ? { vocab: requireAbsolutePath(request.vocab, 'The vocabulary file') } : {}),
    };
  }

  async alignEstimate(request: AlignRequest): Promise<AlignEstimate> {
    return estimateAlign(await prepareAlign(this.requireProject(), this.models, this.alignChecked(request)));
  }

  async alignText(request: AlignRequest): Promise<AlignSummary> {
    const project = this.requireProject();
    const prepared = await prepareAlign(project, this.models, this.alignChecked(request));
    // Checked after the (async) preparation, so two requests cannot both pass before either job starts.
    const running = this.jobs.running().find((j) => j.kind === 'align');
    if (running)
      throw new DinoscopeError('BAD_INPUT', `An alignment is running (${running.label}): wait for it to finish or cancel it first.`);
    return runAlign(project, prepared, this.jobs, `Align text (${request.modelId})`);
  }

  /** The open project's analysis service (created on first use, dropped with the project). */
  analysis(): AnalysisService {
    const project = this.requireProject();
    if (this.analysisService?.project !== project) {
      this.analysisService = new AnalysisService(project, {
        tileUrl: (id) => this.hooks.urls.tile(id),
        overlayUrl: (id, overlayId) => this.hooks.urls.overlay(id, overlayId),
        invalidate: (id, overlayId, client) => this.tilesService?.invalidateOverlay(id, overlayId, client),
        client: currentClient,
        models: () => this.models,
      });
    }
    return this.analysisService;
  }

  // ---- viewer ----

  async tileSource(imageId: string): Promise<TileSourceInfo> {
    const img = this.locate(requireString(imageId, 'imageId'));
    const g = dziGeometry(img.width, img.height);
    const meta = imageMeta(this.requireProject().requireImage(imageId));
    return {
      imageId,
      width: img.width,
      height: img.height,
      tileSize: TILE_SIZE,
      overlap: 0,
      minLevel: 0,
      maxLevel: g.maxLevel,
      tileUrl: this.imageTileUrl(imageId),
      mpp: meta?.mpp ?? null,
    };
  }

  /** The tile URL template of an image: a multi-channel image's carries its saved display's key, so a
   * viewer (and the browser's cache) takes new tiles when the display changes. */
  private imageTileUrl(imageId: string): string {
    const saved = this.requireProject().requireImage(imageId).channelDisplay;
    return this.hooks.urls.tile(imageId) + (saved ? `?d=${displayKey(saved)}` : '');
  }

  /** The image's channels (BAD_INPUT, in plain words, for an RGB image). */
  private channelsOf(imageId: string): { name: string; channels: NonNullable<ImageMetadata['channels']> } {
    const img = this.requireProject().requireImage(requireString(imageId, 'imageId'));
    const channels = imageMeta(img)?.channels;
    if (!channels)
      throw new DinoscopeError('BAD_INPUT', `${img.name} is not a multi-channel image: its pixels are RGB, so it has no channels to show.`);
    return { name: img.name, channels };
  }

  /** Statistics of an image's reader, computed once per image and file (its pyramid cache or source). */
  private channelStats<T>(kind: string, imageId: string, compute: (r: ImageReader) => Promise<T>): Promise<T> {
    const key = `${kind}|${imageId}|${this.locate(imageId).path}`;
    let p = this.channelStatsCache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = this.tiles().withReader(imageId, compute);
      this.channelStatsCache.set(key, p);
      p.catch(() => this.channelStatsCache.delete(key));
    }
    return p;
  }

  async channelState(imageId: string): Promise<ChannelState> {
    const { channels } = this.channelsOf(imageId);
    const saved = this.requireProject().requireImage(imageId).channelDisplay;
    const display = saved ?? (await this.channelStats('display', imageId, readerDefaultDisplay));
    return { imageId, channels, display, saved: saved !== undefined, tileUrl: this.imageTileUrl(imageId) };
  }

  async channelHistograms(imageId: string): Promise<ChannelHistogram[]> {
    this.channelsOf(imageId);
    return this.channelStats('histograms', imageId, readerHistograms);
  }

  async setChannelDisplay(imageId: string, display: ChannelDisplay[] | null): Promise<ChannelState> {
    const { name, channels } = this.channelsOf(imageId);
    const checked = display === null ? null : checkDisplay(name, channels, display);
    const project = this.requireProject();
    await project.update((p) => {
      const next = { ...p.requireImage(imageId) };
      if (checked) next.channelDisplay = checked;
      else delete next.channelDisplay;
      p.upsert(next);
    });
    this.tilesService?.invalidateTiles(imageId);
    this.changed(project);
    return this.channelState(imageId);
  }

  async overlays(imageId: string): Promise<OverlayInfo[]> {
    this.locate(requireString(imageId, 'imageId'));
    const providers = await this.tiles().overlays.forImage(imageId);
    return providers.map((p) => {
      // Heatmaps change on every request: their legend carries the values and their URL a version.
      const heat = p instanceof HeatmapOverlay;
      const legend = heat ? p.legendFor(imageId) : p.legend.map((l) => ({ ...l }));
      const tileUrl = this.hooks.urls.overlay(imageId, p.id) + (heat ? `?v=${this.heatmaps.version}` : '');
      const scale = heat ? p.scaleFor(imageId) : undefined;
      return { id: p.id, imageId, name: p.name, tileUrl, legend, ...(scale && { scale }), defaultOpacity: p.defaultOpacity };
    });
  }

  async thumbnailUrl(imageId: string): Promise<string> {
    this.requireProject().requireImage(requireString(imageId, 'imageId'));
    return this.hooks.urls.thumbnail(imageId);
  }

  // ---- assets (core/tiles/router.ts) ----

  tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    return this.tiles().tile(imageId, level, x, y);
  }

  thumbnail(imageId: string): Promise<Uint8Array> {
    return this.tiles().thumbnail(imageId);
  }

  overlayTile(imageId: string, overlayId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    // The analyses' layers are each client's own (core/analysis/client-states.ts), and so are their cached tiles.
    const scope = ANALYSIS_LAYERS.has(overlayId) ? currentClient() : '';
    return this.tiles().overlayTile(imageId, overlayId, level, x, y, scope);
  }

  async close(): Promise<void> {
    for (const j of this.jobs.running()) this.jobs.get(j.jobId)?.cancel();
    await this.training.close(); // live runs checkpoint and their children exit
    await Promise.allSettled([...this.background]);
    await this.tilesService?.close();
    this.tilesService = null;
  }

  // ---- internals ----

  private async setProject(project: Project): Promise<ProjectSummary> {
    await this.tilesService?.close();
    this.tilesService = null;
    this.project = project;
    await touchRecent(project.dir, project.name);
    return this.changed(project);
  }

  private changed(project: Project): ProjectSummary {
    const summary = project.summary();
    if (project === this.project) this.events.emit('projectChanged', summary);
    return summary;
  }

  private tiles(): TileService {
    if (!this.tilesService) {
      this.tilesService = new TileService({
        locate: (id) => this.locate(id),
        thumbnailPath: (id) => this.requireProject().thumbnailPath(this.requireProject().requireImage(id).id),
        tissueMaskPath: (id) => this.requireProject().tissueMaskPath(this.requireProject().requireImage(id).id),
        openImage: (path) => this.formats.openImage(path),
        channelDisplay: (id) => this.requireProject().requireImage(id).channelDisplay ?? null,
        cacheBytes: this.hooks.tileCacheBytes,
      });
      const service = this.tilesService;
      for (const p of AnalysisService.providers(
        () => this.analysisService,
        (id) => service.geometry(id),
      ))
        service.overlays.register(p);
      for (const kind of ['attention', 'token-norm'] as const)
        service.overlays.register(new HeatmapOverlay(kind, this.heatmaps, (id) => service.geometry(id)));
    }
    return this.tilesService;
  }

  /** An image whose pixels can be shown, or NOT_FOUND naming why not. */
  private locate(imageId: string): TileImage {
    const project = this.requireProject();
    const img = project.image(imageId);
    if (!img) throw new DinoscopeError('NOT_FOUND', `Image ${imageId} is not in project ${project.dir}.`);
    if (img.status !== 'ok' || !img.meta)
      throw new DinoscopeError('NOT_FOUND', `${img.name} cannot be shown: ${img.reason ?? img.status}.`);
    return { path: readablePath(project, img), width: img.meta.width, height: img.meta.height };
  }
}

/** Validates the name/location options of importModel and downloadModel. */
function modelOptions(o: ModelImportOptions | undefined): ModelImportOptions {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object') throw new DinoscopeError('BAD_INPUT', 'Model options must be an object.');
  const out: ModelImportOptions = {};
  if (o.name !== undefined) out.name = requireString(o.name, 'The model name');
  if (o.location !== undefined) {
    if (o.location !== 'user' && o.location !== 'project')
      throw new DinoscopeError('BAD_INPUT', `The model location must be "user" or "project" (got ${JSON.stringify(o.location)}).`);
    out.location = o.location;
  }
  return out;
}

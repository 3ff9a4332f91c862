// The collection-level analyses behind the API (similarity search, PCA and cluster maps, cluster
// regions, exports) for one open project. They work on the project's active feature set (or the one the
// service is pinned to, CLI --set, or a request names). Holds the resident feature collection (reopened
// when the set grows, e.g. as extraction adds images), the fitted PCA / k-means models, and the latest
// per-image colour layers that the overlay providers draw (core/tiles/overlays/{similarity,pca,clusters}).
// The layers, the last search and the clustering shown are each client's own (client-states.ts: several
// browsers on one serve host do not see each other's queries); the collection and the fitted models are
// shared. When the set a client analyses changes to another one, its earlier results (layers, last search)
// are dropped: nothing computed on one set is shown as if it came from another.
import type {
  AnalysisExportRequest,
  AnalysisExportResult,
  AnalysisMatch,
  ClusterOverlayOptions,
  ClusterRegionInfo,
  OverlayInfo,
  OverlayScale,
  PcaOverlayOptions,
  SimilarityHeatmap,
  SimilarityRequest,
  SimilarityResult,
  TextQueryRequest,
} from '../common/api.js';
import { CLIENT_PARAM, DEFAULT_CLIENT } from '../common/client-id.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { readAttachedDinoTxt, readAttachedManifest } from '../model/text/attached.js';
import { TextQueryEncoder } from '../model/text/encoder.js';
import { DinoscopeError } from '../common/errors.js';
import type { KMeansModel } from '../features/kmeans.js';
import type { Project } from '../project/project.js';
import { clusterLegend, clusterRgba, clustersOverlay } from '../tiles/overlays/clusters.js';
import { pcaLegend, pcaOverlay } from '../tiles/overlays/pca.js';
import type { OverlayProvider } from '../tiles/overlays/provider.js';
import { similarityLegend, similarityOverlay, similarityScale, type CellLayer } from '../tiles/overlays/similarity.js';
import { dziGeometry, type DziGeometry } from '../tiles/dzi.js';
import { type ClientAnalysis, ClientStates, type LastSearch } from './client-states.js';
import { chooseFeatureSet, FeatureCollection, type GridImage } from './collection.js';
import { checkMapSmoothing, DEFAULT_MAP_SMOOTHING } from '../common/map-smoothing.js';
import { checkK, fitClusters, imageLabels, labelRegions } from './cluster-maps.js';
import { exportAnalysis, type ExportContext } from './export.js';
import { fitCollectionPca, pcaDefaultThreshold, pcaImageRgba, type PcaFit } from './pca-maps.js';
import { bestRegions, candidateCount, heatColours, queryBoxes, queryCells, queryVector } from './similarity.js';
import { matchPicture } from './thumbs.js';

export interface AnalysisHooks {
  /** The host's URL templates ({level}, {x}, {y}). */
  tileUrl(imageId: string): string;
  overlayUrl(imageId: string, overlayId: string): string;
  /** Drop cached tiles of one overlay of an image for one client (its layer changed). */
  invalidate(imageId: string, overlayId: string, client: string): void;
  /** The client the current call or tile request is for (core/app/caller.ts); DEFAULT_CLIENT without. */
  client?(): string;
  /** Where a feature set's model is found (text queries load its dino.txt text tower); default: the
   * project's and the user's models folders. */
  models?: () => ModelManager;
}

export type AnalysisLayerKind = 'similarity' | 'pca' | 'clusters';

export type { LastSearch } from './client-states.js';

/** Fitted PCA bases and k-means models kept for reuse (by set and threshold, or set and k), shared by clients. */
const MAX_FITS = 4;

export class AnalysisService {
  private loaded: { key: string; fc: Promise<FeatureCollection> } | null = null;
  private version = 0;
  /** The PCA and k-means fits (in the fit thread; calls made meanwhile share the one in flight), most recent last. */
  private readonly pcaFits = new Map<string, Promise<PcaFit>>();
  private readonly clusterFits = new Map<string, { model: Promise<KMeansModel>; labels: Map<string, Int32Array> }>();
  /** Each client's layers, last search and clustering shown. */
  private readonly clients = new ClientStates((s) => this.dropLayers(s));
  /** The text tower of the last text query's model, compiled once (shared by clients). */
  private encoder: { key: string; encoder: Promise<TextQueryEncoder> } | null = null;

  constructor(
    readonly project: Project,
    private readonly hooks: AnalysisHooks,
    /** Analyse this set instead of the project's active one (dinoscope pca|segment|export|search --set). */
    readonly featureSet?: string,
  ) {}

  /** The three overlay providers, to register once in a tile service; they draw the layers of whichever
   * analysis service `current` returns (the open project's). */
  static providers(current: () => AnalysisService | null, geometry: (imageId: string) => Promise<DziGeometry>): OverlayProvider[] {
    const src = (kind: AnalysisLayerKind) => (imageId: string) => current()?.layer(kind, imageId);
    return [similarityOverlay(src('similarity'), geometry), pcaOverlay(src('pca'), geometry), clustersOverlay(src('clusters'), geometry)];
  }

  /** The client the current call is for. */
  private clientId(): string {
    return this.hooks.client?.() ?? DEFAULT_CLIENT;
  }

  /** The current client's results (created on its first call). */
  private state(): ClientAnalysis {
    return this.clients.get(this.clientId());
  }

  /** The current client's latest layer of a kind for an image. */
  layer(kind: AnalysisLayerKind, imageId: string): CellLayer | undefined {
    return this.clients.peek(this.clientId())?.layers.get(`${kind}|${imageId}`);
  }

  /** The current client's last similarity search (exports of matches), or null. */
  get last(): LastSearch | null {
    return this.clients.peek(this.clientId())?.last ?? null;
  }

  /** Clients holding results now (bounded: client-states.ts). */
  get clientCount(): number {
    return this.clients.size;
  }

  /** The collection of the chosen feature set, reopened when the set changed since it was loaded. */
  async collection(featureSet?: string): Promise<FeatureCollection> {
    const set = chooseFeatureSet(this.project, featureSet ?? this.featureSet);
    const st = this.state();
    if (st.resultsOf !== set.id) this.forgetClient(st, set.id);
    // A pixel size stated since (the maps' µm per pixel in exports) reopens it too.
    const stated = set.images.map((i) => this.project.image(i.imageId)?.statedMpp ?? '').join(',');
    const key = `${set.id}|${set.updatedAt}|${set.images.reduce((s, i) => s + i.indexedRows, 0)}|${stated}`;
    if (this.loaded?.key !== key) {
      const fc = FeatureCollection.open(this.project, set);
      fc.catch(() => (this.loaded = null));
      this.loaded = { key, fc };
      this.pcaFits.clear();
      this.clusterFits.clear();
    }
    return this.loaded.fc;
  }

  /** Drops every client's results of the set analysed so far (the overlays stop drawing them), and the fits. */
  forget(): void {
    for (const s of this.clients.all()) this.forgetClient(s, null);
    this.pcaFits.clear();
    this.clusterFits.clear();
  }

  /** Drops one client's results; `next` is the set it analyses from now on. */
  private forgetClient(s: ClientAnalysis, next: string | null): void {
    this.dropLayers(s);
    s.last = null;
    s.lastQuery = null;
    s.clusterK = null;
    s.mapSmoothing = null;
    s.resultsOf = next;
  }

  private dropLayers(s: ClientAnalysis): void {
    for (const key of s.layers.keys()) {
      const [kind, imageId] = key.split('|');
      this.hooks.invalidate(imageId, kind, s.id);
    }
    s.layers.clear();
  }

  /**
   * Background preparation when a project opens, so the first click costs what later ones do: load the
   * newest feature set's index into memory, start the scan threads on it, and run the colour and tile
   * paths once. Never throws (a failure here is reported by the first real query instead).
   */
  async warm(): Promise<void> {
    try {
      if (!(this.featureSet ?? this.project.activeFeatureSet())) return;
      const fc = await this.collection();
      await fc.index.warm();
      const g = fc.images.values().next().value;
      if (g) {
        const { rgba } = heatColours(new Float32Array(256).map((_, i) => i / 256));
        const layer: CellLayer = { stride: 1, origin: { x: 0, y: 0 }, gridWidth: 16, gridHeight: 16, rgba, legend: [] };
        await similarityOverlay(
          () => layer,
          async () => dziGeometry(16, 16),
        ).tile(g.id, 4, 0, 0);
      }
    } catch {
      // The first query reports it.
    }
  }

  async similarityQuery(req: SimilarityRequest): Promise<SimilarityResult> {
    const t0 = performance.now();
    const fc = await this.collection(req?.featureSet);
    const k = req.k ?? 20;
    if (!Number.isInteger(k) || k < 1 || k > 200)
      throw new DinoscopeError('BAD_INPUT', `k must be an integer from 1 to 200, got ${String(k)}.`);
    const q = queryCells(fc, req);
    const { vector, patches } = await queryVector(fc, q);
    // The query image's heatmap, and the top-N over the other images' rows, on the worker pool in flight
    // together; the query image's own best patches come from its heatmap (every row scanned once).
    const [scores, others] = await Promise.all([
      fc.index.heatmapAsync(q.image.id, vector),
      fc.index.searchOthersAsync(vector, candidateCount(fc, k), q.image.id),
    ]); // scores: (gridHeight, gridWidth), NaN = no patch
    const hits = await bestRegions(fc, vector, q, k, 3, { ownScores: scores, others });
    const { lo, hi, rgba } = heatColours(scores);
    const overlay = this.setLayer('similarity', q.image, rgba, similarityLegend(lo, hi), similarityScale(lo, hi));
    const matches = hits.map((h) => this.match(fc, fc.image(h.image), h.x, h.y, h.score));
    const st = this.state();
    st.last = { imageId: q.image.id, scores, lo, hi, matches };
    st.lastQuery = { vector, fc, featureSet: req.featureSet };
    return { overlay, matches, queryPatches: patches, queryBoxes: queryBoxes(q), ms: performance.now() - t0, featureSet: fc.set.id };
  }

  /**
   * Scores every patch of the request's image against a text (dino.txt) and lists the best regions of
   * the collection: the same overlay, matches and export as a patch query, and the same heatmap on other
   * images. BAD_INPUT in plain words when the set was not extracted with a dino.txt model.
   */
  async textQuery(req: TextQueryRequest): Promise<SimilarityResult> {
    const t0 = performance.now();
    const fc = await this.collection(req?.featureSet);
    const k = req.k ?? 20;
    if (!Number.isInteger(k) || k < 1 || k > 200)
      throw new DinoscopeError('BAD_INPUT', `k must be an integer from 1 to 200, got ${String(k)}.`);
    if (typeof req.text !== 'string' || req.text.trim() === '') throw new DinoscopeError('BAD_INPUT', 'Type some words to search for.');
    const set = fc.set;
    if (!set.textAligned)
      throw new DinoscopeError(
        'BAD_INPUT',
        `Text search needs features extracted with a dino.txt model; the feature set ${set.id} holds the features of model ${set.modelId}, which had no text tower. Attach one (dinoscope models attach-text ${set.modelId} --weights W --vocab V), extract again and use that set.`,
      );
    const encoder = await this.textEncoder(set.modelId, set);
    const [vector] = await encoder.patchQueries([req.text]);
    if (vector.length !== fc.index.dim)
      throw new DinoscopeError(
        'BAD_INPUT',
        `The text tower of model ${set.modelId} gives ${vector.length}-wide queries but the set's features are ${fc.index.dim} wide: the dino.txt weights changed since the extraction; extract again.`,
      );
    const image = fc.image(req.imageId);
    const q = { image, cells: [] };
    const [scores, others] = await Promise.all([
      fc.index.heatmapAsync(image.id, vector),
      fc.index.searchOthersAsync(vector, candidateCount(fc, k), image.id),
    ]);
    const hits = await bestRegions(fc, vector, q, k, 3, { ownScores: scores, others });
    const { lo, hi, rgba } = heatColours(scores);
    const overlay = this.setLayer('similarity', image, rgba, similarityLegend(lo, hi), similarityScale(lo, hi));
    const matches = hits.map((h) => this.match(fc, fc.image(h.image), h.x, h.y, h.score));
    const st = this.state();
    st.last = { imageId: image.id, scores, lo, hi, matches };
    st.lastQuery = { vector, fc, featureSet: req.featureSet };
    return { overlay, matches, queryPatches: 0, queryBoxes: [], ms: performance.now() - t0, featureSet: set.id };
  }

  private async textEncoder(modelId: string, set: { id: string; textAttached?: string }): Promise<TextQueryEncoder> {
    const models = this.hooks.models?.() ?? new ModelManager({ projectDir: () => this.project.dir, jobs: new JobRegistry() });
    const model = await models.find(modelId).catch(() => {
      throw new DinoscopeError(
        'BAD_INPUT',
        `Text search needs the model ${modelId} that extracted this set, and it is no longer installed.`,
      );
    });
    const gone = (): never => {
      throw new DinoscopeError('BAD_INPUT', `Model ${modelId} no longer has its dino.txt text tower: attach it again to search by text.`);
    };
    const manifest = (await readAttachedManifest(model.path)) ?? gone();
    // The set holds the patch embeddings of the vision head it was extracted with; a tower trained or
    // attached since embeds text in another space, whose scores against it would mean nothing.
    if (set.textAttached !== undefined && set.textAttached !== manifest.attached)
      throw new DinoscopeError(
        'BAD_INPUT',
        `The text tower of model ${modelId} changed (aligned or attached again, ${manifest.attached.slice(0, 16).replace('T', ' ')}) since the feature set ${set.id} was extracted with it: extract features with ${modelId} again to search them by text.`,
      );
    const key = `${model.path}|${manifest.attached}`;
    if (this.encoder?.key !== key) {
      const old = this.encoder;
      // The weights are read once per attachment, not per query.
      const encoder = readAttachedDinoTxt(model.path).then((attached) => TextQueryEncoder.create(attached ?? gone(), { threads: 1 }));
      encoder.catch(() => (this.encoder = null));
      this.encoder = { key, encoder };
      void old?.encoder.then((e) => e.release()).catch(() => undefined);
    }
    return this.encoder.encoder;
  }

  /** The last query's heatmap over `imageId`, coloured on that image's own scale. */
  async similarityHeatmap(imageId: string): Promise<SimilarityHeatmap> {
    const q = this.state().lastQuery;
    if (!q) throw new DinoscopeError('BAD_INPUT', 'There is no similarity query yet: click a patch first.');
    if ((await this.collection(q.featureSet)) !== q.fc)
      throw new DinoscopeError('BAD_INPUT', 'The features changed since the last similarity query: click a patch again.');
    const g = q.fc.image(imageId);
    const { lo, hi, rgba } = heatColours(await q.fc.index.heatmapAsync(g.id, q.vector));
    return { overlay: this.setLayer('similarity', g, rgba, similarityLegend(lo, hi), similarityScale(lo, hi)), stride: g.stride };
  }

  async pcaOverlay(imageId: string, options: PcaOverlayOptions = {}): Promise<OverlayInfo> {
    const fc = await this.collection(options?.featureSet);
    const g = fc.image(imageId);
    const smoothing = this.useSmoothing(options.smoothing);
    const fit = await this.pcaFit(fc, options?.foregroundThreshold, smoothing);
    return this.setLayer('pca', g, await pcaImageRgba(fc, fit, imageId), pcaLegend(fit.threshold));
  }

  /** The collection PCA for a threshold (absent: the set's own, pcaDefaultThreshold; null: none) and a
   * neighbour smoothing (σ in patches). The base basis is kept when only the threshold changes; a fit
   * without a threshold has none. */
  async pcaFit(fc: FeatureCollection, asked: number | null | undefined, smoothing: number): Promise<PcaFit> {
    const threshold = asked === undefined ? pcaDefaultThreshold(fc.set) : asked;
    if (threshold !== null && (typeof threshold !== 'number' || !Number.isFinite(threshold)))
      throw new DinoscopeError('BAD_INPUT', `The foreground threshold must be a number, got ${String(threshold)}.`);
    const key = `${fc.set.id}|${smoothing}|${threshold}`;
    if (!this.pcaFits.has(key)) {
      // The base basis of a thresholded fit of this set and smoothing is reused when only the threshold
      // differs (a fit without a threshold has none; it needs none either).
      const prefix = `${fc.set.id}|${smoothing}|`;
      const same =
        threshold === null ? undefined : [...this.pcaFits.entries()].reverse().find(([k]) => k.startsWith(prefix) && k !== `${prefix}null`);
      const previous = same ? await same[1].catch(() => undefined) : undefined;
      if (!this.pcaFits.has(key)) keepRecent(this.pcaFits, key, fitCollectionPca(fc, threshold, previous?.base ?? undefined, smoothing));
    }
    const fit = this.pcaFits.get(key)!;
    keepRecent(this.pcaFits, key, fit);
    return fit.catch((err: unknown) => {
      if (this.pcaFits.get(key) === fit) this.pcaFits.delete(key); // a failed fit is not kept
      throw err;
    });
  }

  async clusterOverlay(imageId: string, k: number, options: ClusterOverlayOptions = {}): Promise<OverlayInfo> {
    const fc = await this.collection();
    const g = fc.image(imageId);
    const labels = await this.labels(fc, checkK(k), imageId, this.useSmoothing(options.smoothing));
    const counts = new Array<number>(k).fill(0);
    for (const l of labels) if (l >= 0) counts[l]++;
    return this.setLayer('clusters', g, clusterRgba(labels), clusterLegend(k, counts));
  }

  /** Labels of an image under the k-means model for k and a smoothing (fitted once per k, smoothing and
   * feature set); k becomes the current client's clustering (clusterRegions, exports). */
  async labels(fc: FeatureCollection, k: number, imageId: string, smoothing: number): Promise<Int32Array> {
    const key = `${fc.set.id}|${k}|${smoothing}`;
    this.state().clusterK = k;
    const clusters = this.clusterFits.get(key) ?? { model: fitClusters(fc, k, smoothing), labels: new Map<string, Int32Array>() };
    keepRecent(this.clusterFits, key, clusters);
    const model = await clusters.model.catch((err: unknown) => {
      if (this.clusterFits.get(key) === clusters) this.clusterFits.delete(key); // a failed fit is not kept
      throw err;
    });
    let l = clusters.labels.get(imageId);
    if (!l) clusters.labels.set(imageId, (l = await imageLabels(fc, model, imageId, smoothing)));
    return l;
  }

  /** The smoothing a map request asked for (checked), else the current client's last, else the default;
   * it becomes the client's (clusterRegions and exports follow the maps on screen). */
  private useSmoothing(asked?: number): number {
    const s = this.state();
    s.mapSmoothing = asked === undefined ? (s.mapSmoothing ?? DEFAULT_MAP_SMOOTHING) : checkMapSmoothing(asked);
    return s.mapSmoothing;
  }

  /** The current client's map smoothing without changing it. */
  private get mapSmoothing(): number {
    return this.clients.peek(this.clientId())?.mapSmoothing ?? DEFAULT_MAP_SMOOTHING;
  }

  /** k of the current client's clustering, or null before any. */
  get clusterK(): number | null {
    return this.clients.peek(this.clientId())?.clusterK ?? null;
  }

  async clusterRegions(clusterId: number, limit = 30): Promise<ClusterRegionInfo[]> {
    const k = this.clusterK ?? undefined;
    if (k === undefined)
      throw new DinoscopeError('BAD_INPUT', 'No clustering yet: show the cluster overlay (or run dinoscope segment) first.');
    if (!Number.isInteger(clusterId) || clusterId < 0 || clusterId >= k)
      throw new DinoscopeError('BAD_INPUT', `clusterId must be an integer from 0 to ${k - 1}, got ${String(clusterId)}.`);
    const fc = await this.collection();
    const out: ClusterRegionInfo[] = [];
    for (const g of fc.images.values()) {
      const labels = await this.labels(fc, k, g.id, this.mapSmoothing);
      for (const r of labelRegions(labels, g.gridWidth, g.gridHeight, clusterId).slice(0, limit)) {
        const c = fc.centre(g, r.cx, r.cy);
        const box = {
          x: g.origin.x + r.x0 * g.stride,
          y: g.origin.y + r.y0 * g.stride,
          width: (r.x1 - r.x0 + 1) * g.stride,
          height: (r.y1 - r.y0 + 1) * g.stride,
        };
        const side = Math.max(3 * g.stride, Math.min(box.width, box.height));
        out.push({
          imageId: g.id,
          name: g.name,
          x: c.x,
          y: c.y,
          score: r.area,
          ...matchPicture(this.hooks.tileUrl(g.id), g, c.x, c.y, side),
          cluster: clusterId,
          patches: r.area,
          box,
        });
      }
    }
    return out.sort((a, b) => b.patches - a.patches).slice(0, limit);
  }

  async exportAnalysis(req: AnalysisExportRequest): Promise<AnalysisExportResult> {
    const fc = await this.collection();
    const smoothing = req.smoothing === undefined ? this.mapSmoothing : checkMapSmoothing(req.smoothing);
    const ctx: ExportContext = {
      project: this.project,
      fc,
      pca: (t) => this.pcaFit(fc, t, smoothing),
      labels: (k, id) => this.labels(fc, k, id, smoothing),
      clusterK: this.clusterK,
      last: this.last,
    };
    return exportAnalysis(ctx, req);
  }

  private match(fc: FeatureCollection, g: GridImage, gx: number, gy: number, score: number): AnalysisMatch {
    const c = fc.centre(g, gx, gy);
    return { imageId: g.id, name: g.name, x: c.x, y: c.y, score, ...matchPicture(this.hooks.tileUrl(g.id), g, c.x, c.y, 4 * g.stride) };
  }

  private setLayer(
    kind: AnalysisLayerKind,
    g: GridImage,
    rgba: Uint8Array,
    legend: CellLayer['legend'],
    scale?: OverlayScale,
  ): OverlayInfo {
    const st = this.state();
    const dropped = this.clients.setLayer(st, `${kind}|${g.id}`, {
      stride: g.stride,
      origin: g.origin,
      gridWidth: g.gridWidth,
      gridHeight: g.gridHeight,
      rgba,
      legend,
    });
    for (const key of dropped) {
      const [k, imageId] = key.split('|');
      this.hooks.invalidate(imageId, k, st.id);
    }
    this.hooks.invalidate(g.id, kind, st.id);
    const v = ++this.version;
    // The tiles are this client's: its id goes in their URL (the serve host hands it back to the layer).
    const client = st.id === DEFAULT_CLIENT ? '' : `&${CLIENT_PARAM}=${st.id}`;
    const names: Record<AnalysisLayerKind, string> = { similarity: 'Similarity', pca: 'PCA', clusters: 'Clusters' };
    const opacity: Record<AnalysisLayerKind, number> = { similarity: 0.65, pca: 0.75, clusters: 0.6 };
    return {
      id: kind,
      imageId: g.id,
      name: names[kind],
      tileUrl: `${this.hooks.overlayUrl(g.id, kind)}?v=${v}${client}`,
      legend,
      ...(scale && { scale }),
      defaultOpacity: opacity[kind],
    };
  }
}

/** Sets key → value as the most recent entry of `map`, dropping the oldest beyond MAX_FITS. */
function keepRecent<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_FITS) map.delete(map.keys().next().value!);
}

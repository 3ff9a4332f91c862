// Analysis state of the window (kept across image switches, as the viewer is rebuilt per image): the
// current similarity query, where it lies and its matches, the PCA / cluster maps (on or off, their
// threshold / k), a cluster's regions, and where the next opened image should be centred (a clicked match).
// The maps' on/off is the one truth both the analysis panel's checkboxes and the layers panel's toggles
// show and change; their overlays are fetched again only when what they show would change. Results belong
// to the active feature set they were computed on; when it changes they are cleared (follow()).
import type { AnalysisMatch, ClusterRegionInfo, OverlayInfo } from '../../../../core/common/api.js';
import { DEFAULT_CLUSTER_K } from '../../../../core/common/clusters.js';
import { DEFAULT_MAP_SMOOTHING } from '../../../../core/common/map-smoothing.js';
import type { AppStore } from '../../stores/app.svelte.js';
import type { ApiClient } from '../../api/client.js';
import { toDinoscopeError } from '../../api/errors.js';

export interface QueryPoint {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The overlay layers that are analysis maps (their visibility is pcaOn / clustersOn). */
export type MapLayer = 'pca' | 'clusters';
export const isMapLayer = (id: string): id is MapLayer => id === 'pca' || id === 'clusters';

export class AnalysisState {
  /** The query: points (click, shift-click) or a rectangle, on one image. */
  queryImage = $state<string | null>(null);
  points = $state.raw<QueryPoint[]>([]);
  rect = $state.raw<Box | null>(null);
  /** The queried patches (or the rectangle on the patch grid) in level-0 pixels: the query marker. */
  queryBoxes = $state.raw<Box[]>([]);
  /** Patches averaged into the query. */
  queryPatches = $state(0);
  /** The words of a text query (dino.txt feature sets), null for a patch query. */
  queryWords = $state<string | null>(null);
  matches = $state.raw<AnalysisMatch[]>([]);
  ms = $state(0);
  busy = $state(false);
  error = $state<string | null>(null);
  pcaOn = $state(false);
  /** The PCA foreground threshold typed; null: the feature set's own (the tissue mask of a masked set). */
  threshold = $state<number | null>(null);
  clustersOn = $state(false);
  k = $state(DEFAULT_CLUSTER_K);
  /** Both maps' neighbour smoothing, σ in patches (0 off; core/common/map-smoothing.ts). */
  smoothing = $state(DEFAULT_MAP_SMOOTHING);
  regions = $state.raw<ClusterRegionInfo[]>([]);
  regionsOf = $state<number | null>(null);
  /** The k of the clustering the listed regions belong to. */
  regionsK = $state<number | null>(null);
  /** A match opened on another image: its patch there, marked while that image shows the query's heatmap. */
  matchMark = $state.raw<{ imageId: string; box: Box } | null>(null);
  /** Centre the next opened image here (set when a match of another image is clicked). */
  focus: { imageId: string; x: number; y: number } | null = null;
  /** The active feature set last seen (undefined before any): results above were computed on it. */
  private activeSeen: string | null | undefined = undefined;

  /** What each map overlay on screen was made from ("image|setting"): no refetch when it would not change.
   * Overlays stay in the app's overlay list for their image, so this holds across viewer rebuilds. */
  private made: Record<MapLayer, string | null> = { pca: null, clusters: null };
  /** The k of the last cluster overlay the host computed (clusterRegions answers for it), and "k|smoothing". */
  private clustersK: number | null = null;
  private clustersMade: string | null = null;
  /** Requests in flight per map: an answer to an older one is dropped. */
  private asked: Record<MapLayer, number> = { pca: 0, clusters: 0 };

  isOn(id: MapLayer): boolean {
    return id === 'pca' ? this.pcaOn : this.clustersOn;
  }

  setOn(id: MapLayer, on: boolean): void {
    if (id === 'pca') this.pcaOn = on;
    else this.clustersOn = on;
  }

  /** Runs a similarity query; `show` receives the heatmap overlay. */
  async query(api: ApiClient, imageId: string, q: { points?: QueryPoint[]; rect?: Box }, show: (o: OverlayInfo) => void): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const r = await api.similarityQuery({ imageId, ...q, k: 20 });
      this.queryImage = imageId;
      this.points = q.points ?? [];
      this.rect = q.rect ?? null;
      this.queryBoxes = r.queryBoxes;
      this.matchMark = null;
      this.queryPatches = r.queryPatches;
      this.queryWords = null;
      this.matches = r.matches;
      this.ms = r.ms;
      show(r.overlay);
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    } finally {
      this.busy = false;
    }
  }

  /** Runs a text query (a dino.txt feature set): every patch of `imageId` scored against the words. */
  async textQuery(api: ApiClient, imageId: string, text: string, show: (o: OverlayInfo) => void): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const r = await api.textQuery({ text, imageId, k: 20 });
      this.queryImage = imageId;
      this.points = [];
      this.rect = null;
      this.queryBoxes = [];
      this.matchMark = null;
      this.queryPatches = 0;
      this.queryWords = text;
      this.matches = r.matches;
      this.ms = r.ms;
      show(r.overlay);
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    } finally {
      this.busy = false;
    }
  }

  /** A match opened on another image: the query's heatmap recomputed there, and the match's patch marked. */
  async showMatch(api: ApiClient, imageId: string, at: QueryPoint, show: (o: OverlayInfo) => void): Promise<void> {
    try {
      const h = await api.similarityHeatmap(imageId);
      show(h.overlay);
      this.matchMark = { imageId, box: { x: at.x - h.stride / 2, y: at.y - h.stride / 2, width: h.stride, height: h.stride } };
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
  }

  /** Shows the PCA map of `imageId` at `threshold` (null: the set's own) and `smoothing` (fetched unless the
   * one shown was made so). */
  async showPca(
    api: ApiClient,
    imageId: string,
    threshold: number | null,
    smoothing: number,
    show: (o: OverlayInfo) => void,
  ): Promise<void> {
    await this.fetchMap(
      'pca',
      `${imageId}|${threshold}|${smoothing}`,
      () => api.pcaOverlay(imageId, threshold === null ? { smoothing } : { foregroundThreshold: threshold, smoothing }),
      show,
    );
  }

  /** Shows the k-cluster map of `imageId` at `smoothing`; a listed cluster's regions then follow the new
   * clustering. */
  async showClusters(api: ApiClient, imageId: string, k: number, smoothing: number, show: (o: OverlayInfo) => void): Promise<void> {
    const made = `${k}|${smoothing}`;
    const fresh = await this.fetchMap('clusters', `${imageId}|${made}`, () => api.clusterOverlay(imageId, k, { smoothing }), show);
    if (!fresh) return;
    const before = this.clustersMade;
    this.clustersK = k;
    this.clustersMade = made;
    if (this.regionsOf === null || before === made) return;
    if (this.regionsOf < k) await this.listRegions(api, this.regionsOf);
    else this.clearRegions();
  }

  async listRegions(api: ApiClient, cluster: number): Promise<void> {
    const k = this.clustersK;
    const made = this.clustersMade;
    try {
      const regions = await api.clusterRegions(cluster);
      if (made !== this.clustersMade) return; // the clustering changed meanwhile: its own listing follows
      this.regions = regions;
      this.regionsOf = cluster;
      this.regionsK = k;
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
  }

  /** Drops every result (query, matches, maps, regions, the error) and their overlays on every image: they
   * came from a feature set that is no longer the active one. The map toggles go off. */
  clear(app: AppStore): void {
    this.queryImage = null;
    this.points = [];
    this.rect = null;
    this.queryBoxes = [];
    this.queryPatches = 0;
    this.queryWords = null;
    this.matchMark = null;
    this.matches = [];
    this.clearRegions();
    this.error = null;
    this.pcaOn = false;
    this.clustersOn = false;
    this.focus = null;
    this.made = { pca: null, clusters: null };
    this.clustersK = null;
    this.clustersMade = null;
    this.asked.pca++; // answers still in flight belong to the old set
    this.asked.clusters++;
    app.extraOverlays = app.extraOverlays.filter((o) => !['similarity', 'pca', 'clusters'].includes(o.id));
  }

  /** Clears the results when the project's active feature set is no longer the one they came from. */
  follow(app: AppStore): void {
    const active = app.project?.activeFeatureSet ?? null;
    if (this.activeSeen !== undefined && this.activeSeen !== active) this.clear(app);
    this.activeSeen = active;
  }

  clearRegions(): void {
    this.regions = [];
    this.regionsOf = null;
    this.regionsK = null;
  }

  /** Fetches a map overlay unless the one on screen was made from `key`; true when a new one is shown. */
  private async fetchMap(id: MapLayer, key: string, fetch: () => Promise<OverlayInfo>, show: (o: OverlayInfo) => void): Promise<boolean> {
    if (this.made[id] === key) return false;
    const ticket = ++this.asked[id];
    try {
      const o = await fetch();
      if (ticket !== this.asked[id]) return false;
      this.made[id] = key;
      show(o);
      return true;
    } catch (err) {
      if (ticket === this.asked[id]) this.error = toDinoscopeError(err).message;
      return false;
    }
  }
}

export const analysis = new AnalysisState();

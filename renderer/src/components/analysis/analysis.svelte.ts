// Analysis state of the window (kept across image switches, as the viewer is rebuilt per image): the
// current similarity query and its matches, the PCA / cluster toggles and their settings, a cluster's
// regions, and where the next opened image should be centred (a clicked match). Results belong to the
// active feature set they were computed on; when it changes they are cleared (follow()).
import type { AnalysisMatch, ClusterRegionInfo, OverlayInfo } from '../../../../core/common/api.js';
import type { AppStore } from '../../stores/app.svelte.js';
import type { ApiClient } from '../../api/client.js';
import { toDinoscopeError } from '../../api/errors.js';

export interface QueryPoint {
  x: number;
  y: number;
}

export class AnalysisState {
  /** The query: points (click, shift-click) or a rectangle, on one image. */
  queryImage = $state<string | null>(null);
  points = $state.raw<QueryPoint[]>([]);
  rect = $state.raw<{ x: number; y: number; width: number; height: number } | null>(null);
  matches = $state.raw<AnalysisMatch[]>([]);
  ms = $state(0);
  busy = $state(false);
  error = $state<string | null>(null);
  pcaOn = $state(false);
  threshold = $state(0);
  clustersOn = $state(false);
  k = $state(6);
  regions = $state.raw<ClusterRegionInfo[]>([]);
  regionsOf = $state<number | null>(null);
  /** The active feature set last seen (undefined before any): results above were computed on it. */
  private activeSeen: string | null | undefined = undefined;
  /** Centre the next opened image here (set when a match of another image is clicked). */
  focus: { imageId: string; x: number; y: number } | null = null;

  /** Runs a similarity query; `show` receives the heatmap overlay. */
  async query(api: ApiClient, imageId: string, q: { points?: QueryPoint[]; rect?: { x: number; y: number; width: number; height: number } }, show: (o: OverlayInfo) => void): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const r = await api.similarityQuery({ imageId, ...q, k: 20 });
      this.queryImage = imageId;
      this.points = q.points ?? [];
      this.rect = q.rect ?? null;
      this.matches = r.matches;
      this.ms = r.ms;
      show(r.overlay);
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    } finally {
      this.busy = false;
    }
  }

  /** Shows (or refreshes) the PCA / cluster overlays of `imageId` that are switched on. */
  async refreshMaps(api: ApiClient, imageId: string, show: (o: OverlayInfo) => void, hide: (id: string) => void): Promise<void> {
    try {
      if (this.pcaOn) show(await api.pcaOverlay(imageId, { foregroundThreshold: this.threshold }));
      else hide('pca');
      if (this.clustersOn) show(await api.clusterOverlay(imageId, this.k));
      else hide('clusters');
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
  }

  /** Drops every result (matches, maps, regions, the error) and their overlays on every image: they came
   * from a feature set that is no longer the active one. The map toggles go off. */
  clear(app: AppStore): void {
    this.queryImage = null;
    this.points = [];
    this.rect = null;
    this.matches = [];
    this.regions = [];
    this.regionsOf = null;
    this.error = null;
    this.pcaOn = false;
    this.clustersOn = false;
    this.focus = null;
    app.extraOverlays = app.extraOverlays.filter((o) => !['similarity', 'pca', 'clusters'].includes(o.id));
  }

  /** Clears the results when the project's active feature set is no longer the one they came from. */
  follow(app: AppStore): void {
    const active = app.project?.activeFeatureSet ?? null;
    if (this.activeSeen !== undefined && this.activeSeen !== active) this.clear(app);
    this.activeSeen = active;
  }

  async listRegions(api: ApiClient, cluster: number): Promise<void> {
    try {
      this.regions = await api.clusterRegions(cluster);
      this.regionsOf = cluster;
    } catch (err) {
      this.error = toDinoscopeError(err).message;
    }
  }
}

export const analysis = new AnalysisState();

// Each client's own analysis results on a host several browsers share (core/common/client-id.ts): its
// overlay layers (similarity heatmaps, PCA and cluster colourings per image), its last similarity query
// and the clustering it last showed. Two people searching at once each see their own heatmap tiles and
// matches. Memory stays bounded: at most `max` clients are kept (the least recently active one is dropped
// first) and a client idle for `idleMs` is dropped; a dropped client starts over with nothing shown, as
// after a page reload. Each client's layers hold at most `layerBytes` of colours (a whole-slide PCA map of
// 1000 × 1000 patches is 4 MB): beyond, its least recently drawn layers are dropped (the image shows that
// map again when the map is asked for again).
import type { AnalysisMatch } from '../common/api.js';
import type { CellLayer } from '../tiles/overlays/similarity.js';
import type { FeatureCollection } from './collection.js';

/** The last similarity query, for exports. */
export interface LastSearch {
  imageId: string;
  scores: Float32Array;
  lo: number;
  hi: number;
  matches: AnalysisMatch[];
}

export interface ClientAnalysis {
  readonly id: string;
  /** `${kind}|${imageId}` → the layer this client was last shown. */
  readonly layers: Map<string, CellLayer>;
  last: LastSearch | null;
  /** The last query's vector and the collection it was made in (for its heatmap on other images). */
  lastQuery: { vector: Float32Array; fc: FeatureCollection; featureSet?: string } | null;
  /** k of the clustering this client last showed, or null. */
  clusterK: number | null;
  /** Neighbour smoothing (σ in patches) of the maps this client last showed, or null before any. */
  mapSmoothing: number | null;
  /** The set whose results are held, to drop them when this client analyses another set. */
  resultsOf: string | null;
  usedAt: number;
}

export const MAX_CLIENTS = 32;
export const CLIENT_IDLE_MS = 4 * 3600_000;
export const CLIENT_LAYER_BYTES = 128 * 2 ** 20;

export class ClientStates {
  /** Least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly states = new Map<string, ClientAnalysis>();

  constructor(
    /** Called for a state dropped (evicted, idle or cleared), to free what is cached for it. */
    private readonly onDrop: (state: ClientAnalysis) => void,
    private readonly max = MAX_CLIENTS,
    private readonly idleMs = CLIENT_IDLE_MS,
    private readonly now: () => number = Date.now,
    private readonly layerBytes = CLIENT_LAYER_BYTES,
  ) {}

  /**
   * Sets a layer of client `s` (key `${kind}|${imageId}`) as its most recent one; drops its least recently
   * set layers while they hold more than layerBytes (never the one just set). Returns the keys dropped.
   */
  setLayer(s: ClientAnalysis, key: string, layer: CellLayer): string[] {
    s.layers.delete(key);
    s.layers.set(key, layer);
    let bytes = 0;
    for (const l of s.layers.values()) bytes += l.rgba.byteLength;
    const dropped: string[] = [];
    for (const [k, l] of s.layers) {
      if (bytes <= this.layerBytes || k === key) break;
      s.layers.delete(k);
      bytes -= l.rgba.byteLength;
      dropped.push(k);
    }
    return dropped;
  }

  /** The state of client `id`, created when new; marks it used. */
  get(id: string): ClientAnalysis {
    const t = this.now();
    for (const [k, s] of this.states) if (t - s.usedAt > this.idleMs) this.drop(k, s);
    let s = this.states.get(id);
    if (s) this.states.delete(id);
    else s = { id, layers: new Map(), last: null, lastQuery: null, clusterK: null, mapSmoothing: null, resultsOf: null, usedAt: t };
    s.usedAt = t;
    this.states.set(id, s);
    while (this.states.size > this.max) {
      const [k, oldest] = this.states.entries().next().value!;
      this.drop(k, oldest);
    }
    return s;
  }

  /** The state of client `id` if it has one (no use recorded, nothing created). */
  peek(id: string): ClientAnalysis | undefined {
    return this.states.get(id);
  }

  get size(): number {
    return this.states.size;
  }

  /** Every client's state. */
  all(): IterableIterator<ClientAnalysis> {
    return this.states.values();
  }

  private drop(id: string, s: ClientAnalysis): void {
    this.states.delete(id);
    this.onDrop(s);
  }
}

// What the analyses (core/analysis) use of a feature set's search index, whichever store holds it: the
// in-memory exact index (exact.ts, the default) or the LanceDB-backed one for sets beyond RAM
// (lance-index.ts). Both give the same exact int8 scores for the rows they return, and the same
// per-row catalog (catalog.ts), so callers never ask which one they hold.
import type { Hit, IndexImage } from './catalog.js';

/** Where a feature set's vectors are searched from (store.ts chooses). */
export type IndexStore = 'memory' | 'lancedb';

export interface SearchIndex {
  readonly store: IndexStore;
  readonly dim: number;
  readonly size: number;
  /** Grid position (y · gridWidth + x) of every row. */
  readonly positionOf: Uint32Array;
  image(id: string): IndexImage | undefined;
  /** grid position → row for one image (−1 where it has no patch). */
  lookup(imageId: string): Int32Array;
  /** Row r's stored vector, dequantised (unit length up to quantisation error). */
  vector(row: number, dst?: Float32Array): Float32Array;
  /** The k rows most similar to `query` by cosine, best first. */
  searchAsync(query: Float32Array, k: number): Promise<Hit[]>;
  /** The k best rows outside image `imageId`. */
  searchOthersAsync(query: Float32Array, k: number, imageId: string): Promise<Hit[]>;
  /** Cosine of `query` to every patch of one image, (gridHeight, gridWidth), NaN where it has no patch. */
  heatmapAsync(imageId: string, query: Float32Array): Promise<Float32Array>;
  /** The k best patches of one image from its heatmap, best first. */
  topOfHeatmap(imageId: string, scores: Float32Array, k: number): Hit[];
  /** Prepare for the first query (threads, caches); never needed for correctness. */
  warm(): Promise<void>;
}

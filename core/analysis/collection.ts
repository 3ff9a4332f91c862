// A project's extracted features as the analyses see them: one feature set (core/features/extract writes
// it: project.json features[], <set.dir>/<image>.zarr stores and <set.dir>/index/), its search index
// (in memory, or LanceDB-backed for sets beyond RAM: core/features/index/store.ts), and each image's
// patch grid placement (stride, origin) from its store manifest.
import { join } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { featureSetText } from '../common/feature-set-text.js';
import { openSearchIndex } from '../features/index/open.js';
import type { SearchIndex } from '../features/index/search-index.js';
import { openFeatureStore, type FeatureStoreReader } from '../features/store/reader.js';
import { imageMeta, type Project } from '../project/project.js';
import { searchable, setMpp } from '../project/feature-sets.js';
import type { StoredFeatureSet } from '../project/schema.js';
import { smoothGrid } from './smoothing.js';
import { nextTurn, ROWS_PER_TURN } from './turns.js';

export interface GridImage {
  id: string;
  name: string;
  /** Level-0 size of the image. */
  width: number;
  height: number;
  stride: number;
  origin: { x: number; y: number };
  /** µm per level-0 pixel when the image file states it, else null. */
  mpp: number | null;
  gridWidth: number;
  gridHeight: number;
  storeDir: string;
}

/** The feature set a request names, else the project's active one (project/feature-sets.ts). */
export function chooseFeatureSet(project: Project, id?: string): StoredFeatureSet {
  const sets = project.featureSets();
  if (id !== undefined) {
    const s = sets.find((x) => x.id === id);
    if (!s)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${project.dir}: no feature set "${id}" (have: ${sets.map((x) => x.id).join(', ') || 'none'}).`,
      );
    return s;
  }
  const active = project.activeFeatureSet();
  if (active) return active;
  if (!sets.some((s) => s.images.some(searchable)))
    throw new DinoscopeError('BAD_INPUT', `${project.dir}: no features extracted yet — run "Extract features" (dinoscope extract) first.`);
  throw new DinoscopeError(
    'BAD_INPUT',
    `No feature set is chosen for analysis: choose one under "Feature set" in the Find similar panel (or dinoscope sets use --set ID). This project has ${sets.map((x) => x.id).join(', ')}.`,
  );
}

/** The set in words: its id, model and resolution. */
export function describeSet(project: Project, set: StoredFeatureSet): string {
  return featureSetText({
    id: set.id,
    modelId: set.modelId,
    mpp: setMpp(set, project.images()),
    level: set.mpp === null ? set.level : null,
  });
}

export class FeatureCollection {
  private readonly stores = new Map<string, Promise<FeatureStoreReader>>();

  private constructor(
    private readonly project: Project,
    readonly set: StoredFeatureSet,
    readonly index: SearchIndex,
    readonly images: ReadonlyMap<string, GridImage>,
  ) {}

  static async open(project: Project, set: StoredFeatureSet): Promise<FeatureCollection> {
    const setDir = join(project.dir, set.dir);
    const index = await openSearchIndex(join(setDir, 'index'), setDir);
    const images = new Map<string, GridImage>();
    for (const fi of set.images) {
      const img = project.image(fi.imageId);
      if (!img?.meta || !index.image(fi.imageId)) continue;
      const storeDir = join(project.dir, fi.store);
      const m = (await openFeatureStore(storeDir)).manifest;
      images.set(fi.imageId, {
        id: fi.imageId,
        name: img.name,
        width: img.meta.width,
        height: img.meta.height,
        stride: m.stride,
        origin: { ...m.origin },
        mpp: imageMeta(img)?.mpp ?? null,
        gridWidth: m.gridWidth,
        gridHeight: m.gridHeight,
        storeDir,
      });
    }
    return new FeatureCollection(project, set, index, images);
  }

  image(imageId: string): GridImage {
    const g = this.images.get(imageId);
    if (!g) throw this.missing(imageId);
    return g;
  }

  /** The plain-words error for an image outside this set: which file, which set, what to do. */
  missing(imageId: string): DinoscopeError {
    const img = this.project.image(imageId);
    const name = img?.name ?? `Image ${imageId}`;
    const what = describeSet(this.project, this.set);
    const partial = this.set.images.find((i) => i.imageId === imageId);
    const state = partial && !partial.complete ? ' (its extraction was stopped part-way)' : '';
    return new DinoscopeError(
      'BAD_INPUT',
      `${name} has no features in the ${this.project.activeFeatureSet()?.id === this.set.id ? 'active ' : ''}feature set ${what}${state}. Extract features for it with that model and resolution (Extract features), or choose a feature set that includes it.`,
    );
  }

  store(imageId: string): Promise<FeatureStoreReader> {
    let s = this.stores.get(imageId);
    if (!s) this.stores.set(imageId, (s = openFeatureStore(this.image(imageId).storeDir)));
    return s;
  }

  /** The grid cell holding level-0 pixel (x, y) (may lie outside the grid). */
  cellAt(g: GridImage, x: number, y: number): { gx: number; gy: number } {
    return { gx: Math.floor((x - g.origin.x) / g.stride), gy: Math.floor((y - g.origin.y) / g.stride) };
  }

  /** Level-0 pixel of a cell's centre. */
  centre(g: GridImage, gx: number, gy: number): { x: number; y: number } {
    return { x: g.origin.x + (gx + 0.5) * g.stride, y: g.origin.y + (gy + 0.5) * g.stride };
  }

  /** Unit vectors of every indexed patch of an image, neighbour-smoothed with σ `smoothing` patches when it
   * is > 0 (smoothing.ts; the PCA and cluster maps), and their grid positions (y·gw + x). */
  async mapRows(imageId: string, smoothing: number): Promise<{ vectors: Float32Array; positions: Uint32Array }> {
    const rows = await this.imageRows(imageId);
    if (!(smoothing > 0)) return rows;
    const g = this.image(imageId);
    const vectors = await smoothGrid(
      rows.vectors,
      rows.positions,
      g.gridWidth,
      g.gridHeight,
      this.index.dim,
      smoothing,
      nextTurn,
      ROWS_PER_TURN,
    );
    return { vectors, positions: rows.positions };
  }

  /** Unit vectors of every indexed patch of an image: rows (n, dim) and their grid positions (y·gw + x).
   * Other calls are answered between pieces of the copy (turns.ts). */
  async imageRows(imageId: string): Promise<{ vectors: Float32Array; positions: Uint32Array }> {
    const im = this.index.image(imageId);
    if (!im) throw this.missing(imageId);
    const n = im.ranges.reduce((s, [, c]) => s + c, 0);
    const d = this.index.dim;
    const vectors = new Float32Array(n * d); // (n, dim)
    const positions = new Uint32Array(n);
    let i = 0;
    for (const [s, c] of im.ranges) {
      for (let r = s; r < s + c; r++, i++) {
        this.index.vector(r, vectors.subarray(i * d, (i + 1) * d));
        positions[i] = this.index.positionOf[r];
        if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
      }
    }
    return { vectors, positions };
  }
}

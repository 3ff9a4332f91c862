// A tile list: the training tiles a sampler draws from instead of uniform foreground points — a curated set
// (core/features/curation) or any list a user gives. Tiles are squares in level-0 pixels of their images;
// the sampler reads each at the run's resolution, so one list serves any crop size.
import { readFile } from 'node:fs/promises';
import { DinoscopeError } from '../../common/errors.js';

export const CURATED_FORMAT = 'dinoscope-curated-tiles';

export interface ListedTile {
  imageId: string;
  x: number;
  y: number;
  size: number;
  /** The top-level cluster it was sampled from (curated lists). */
  cluster?: number;
  /**
   * Relative probability of drawing this tile (curated sampling weights, core/features/curation/weights.ts:
   * mean 1 over the list). A list without weights draws every tile equally often.
   */
  weight?: number;
}

export interface CuratedTiles {
  format: typeof CURATED_FORMAT;
  version: 1;
  /** The feature set whose embeddings chose the tiles, its model and resolution. */
  featureSet: string;
  modelId: string;
  mpp: number | null;
  level: number | null;
  createdAt: string;
  params: {
    tilePatches: number;
    dedupThreshold: number;
    levels: number[];
    target: number;
    perImageCap: number;
    seed: number;
    /** 'weights': every distinct tile, each with its sampling weight; 'subset' (lists written before weights
     * existed have no mode): `target` tiles picked by balanced sampling, drawn equally often. */
    mode?: 'weights' | 'subset';
  };
  /** Candidate tiles, near-duplicates removed, distinct ones; tiles per top-level cluster before and after. */
  stats: { candidates: number; duplicates: number; distinct: number; clustersBefore: number[]; clustersAfter: number[] };
  tiles: ListedTile[];
}

/** The tile list at `path`, checked; BAD_INPUT naming the file when it is missing or not a tile list. */
export async function readTileList(path: string): Promise<CuratedTiles> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DinoscopeError('BAD_INPUT', `${path} does not exist: make the curated set first (dinoscope curate).`);
    throw e;
  }
  let list: CuratedTiles;
  try {
    list = JSON.parse(text) as CuratedTiles;
  } catch {
    throw new DinoscopeError('CORRUPT', `${path} is not valid JSON: make the curated set again (dinoscope curate).`);
  }
  const ok =
    list?.format === CURATED_FORMAT &&
    Array.isArray(list.tiles) &&
    list.tiles.every((t) => typeof t.imageId === 'string' && [t.x, t.y, t.size].every(Number.isFinite) && t.size > 0);
  if (!ok) throw new DinoscopeError('CORRUPT', `${path} is not a Dinoscope tile list: make the curated set again (dinoscope curate).`);
  if (!list.tiles.length) throw new DinoscopeError('BAD_INPUT', `${path} lists no tiles.`);
  const weights = list.tiles.filter((t) => t.weight !== undefined);
  if (weights.length && (weights.length !== list.tiles.length || !weights.every((t) => Number.isFinite(t.weight) && t.weight! >= 0)))
    throw new DinoscopeError('CORRUPT', `${path} has missing or invalid tile weights: make the curated set again (dinoscope curate).`);
  if (weights.length && !weights.some((t) => t.weight! > 0))
    throw new DinoscopeError(
      'BAD_INPUT',
      `${path}: every tile has weight 0, so none can be drawn: make the curated set again (dinoscope curate).`,
    );
  return list;
}

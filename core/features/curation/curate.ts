// A curated training set for this collection, as DINOv2 built LVD-142M and Vo et al. (2024) automated it:
// candidate tiles embedded by a model (the project's feature set: tiles.ts), near-duplicates removed
// (dedup.ts), hierarchical k-means (hierarchical-kmeans.ts), then every distinct tile with a sampling weight
// that balances the clusters, capped per slide (weights.ts), or a fixed balanced subset (sampling.ts). The result is a tile list (curated-tiles.ts) that pretraining, adaptation
// and distillation sample from instead of uniform foreground points (`--data curated`).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { Project } from '../../project/project.js';
import { chooseSet } from '../extract/index-build.js';
import { type CuratedTiles, CURATED_FORMAT, curatedTilesPath } from './curated-tiles.js';
import { dedup } from './dedup.js';
import { hierarchicalKMeans, topClusters } from './hierarchical-kmeans.js';
import { balancedSample } from './sampling.js';
import { tileEmbeddings } from './tiles.js';
import { clusterWeights } from './weights.js';

export interface CurateOptions {
  /** Feature set (default: the active one, or the only one). */
  set?: string;
  /** Name of the curated list (default 'curated'). */
  name?: string;
  /** Tile side in patches (default 14: 224 px at patch 16). */
  tilePatches?: number;
  /** Cosine similarity at or above which two tiles are duplicates (default 0.98). */
  dedupThreshold?: number;
  /** Clusters per level, bottom first (default: about √n, then about n^(1/4)). */
  levels?: number[];
  /** 'weights': keep every distinct tile with its sampling weight (weights.ts); 'subset': pick `target` tiles
   * by balanced sampling (sampling.ts), drawn equally often. Default: 'subset' when a target is given, else
   * 'weights' (what lifted the rare textures in bench/curation.bench.ts; a subset of tens of tiles did not). */
  mode?: 'weights' | 'subset';
  /** Tiles to pick in 'subset' mode (default: half the distinct tiles). */
  target?: number;
  /** At most this fraction of the tiles from one image (default 1: no cap). */
  perImageCap?: number;
  seed?: number;
}

export interface CurateSummary {
  path: string;
  featureSet: string;
  candidates: number;
  duplicates: number;
  picked: number;
  levels: number[];
  clustersBefore: number[];
  clustersAfter: number[];
  seconds: number;
}

/** Default levels for n distinct tiles: ≈ √n clusters, then ≈ n^(1/4) (at least 2 each, bottom larger). */
export function defaultLevels(n: number): number[] {
  const bottom = Math.max(2, Math.min(n, Math.round(Math.sqrt(n))));
  const top = Math.max(2, Math.min(bottom - 1, Math.round(Math.sqrt(bottom))));
  return bottom > 2 ? [bottom, top] : [bottom];
}

export async function curate(project: Project, o: CurateOptions = {}, log: (line: string) => void = () => {}): Promise<CurateSummary> {
  const t0 = performance.now();
  const set = chooseSet(project, o.set);
  const T = o.tilePatches ?? 14;
  const threshold = o.dedupThreshold ?? 0.98;
  const seed = o.seed ?? 0;
  if (!(Number.isInteger(T) && T >= 1)) throw new DinoscopeError('BAD_INPUT', `tile side must be a whole number of patches ≥ 1, got ${T}.`);
  if (!(threshold > 0 && threshold <= 1))
    throw new DinoscopeError('BAD_INPUT', `the duplicate threshold must be in (0, 1], got ${threshold}.`);
  if (o.perImageCap !== undefined && !(o.perImageCap > 0 && o.perImageCap <= 1))
    throw new DinoscopeError('BAD_INPUT', `the per-image cap must be in (0, 1], got ${o.perImageCap}.`);

  const cand = await tileEmbeddings(project, set, T, log);
  const n = cand.tiles.length;
  log(`curation: ${n} candidate tiles of ${T} × ${T} patches from ${cand.images.length} images (feature set ${set.id}).`);
  const dd = dedup(cand.embeddings, n, cand.dim, { threshold, seed });
  const m = dd.kept.length;
  log(`curation: ${n - m} near-duplicates removed (cosine ≥ ${threshold}); ${m} distinct tiles.`);
  const x = new Float32Array(m * cand.dim);
  const imageOf = new Int32Array(m);
  dd.kept.forEach((r, i) => {
    x.set(cand.embeddings.subarray(r * cand.dim, (r + 1) * cand.dim), i * cand.dim);
    imageOf[i] = cand.imageOf[r];
  });
  const levels = (o.levels ?? defaultLevels(m)).map((k) => Math.min(k, m));
  for (let l = 1; l < levels.length; l++)
    if (levels[l] >= levels[l - 1])
      throw new DinoscopeError('BAD_INPUT', `each level needs fewer clusters than the one below, got ${levels.join(', ')}.`);
  const h = hierarchicalKMeans(x, m, cand.dim, levels, seed);
  const top = topClusters(h, m);
  const mode = o.mode ?? (o.target !== undefined ? 'subset' : 'weights');
  const target = mode === 'weights' ? m : Math.max(1, Math.min(m, o.target ?? Math.ceil(m / 2)));
  const weights = mode === 'weights' ? clusterWeights(h, m, { imageOf, perImageCap: o.perImageCap }) : null;
  const picked = weights
    ? Array.from({ length: m }, (_, i) => i)
    : balancedSample(h, m, { target, imageOf, perImageCap: o.perImageCap, seed });
  const K = h.ks[h.ks.length - 1];
  const clustersBefore = new Array<number>(K).fill(0);
  const clustersAfter = new Array<number>(K).fill(0);
  for (let i = 0; i < m; i++) clustersBefore[top[i]]++;
  // With weights, "after" is each cluster's expected tiles in m draws (one decimal).
  for (const i of picked) clustersAfter[top[i]] += weights ? weights[i] * m : 1;
  if (weights) clustersAfter.forEach((x, c) => (clustersAfter[c] = Math.round(x * 10) / 10));
  log(
    weights
      ? `curation: all ${m} distinct tiles kept with sampling weights over ${K} top-level clusters (tiles ${clustersBefore.join(' ')}; expected in ${m} draws ${clustersAfter.join(' ')}).`
      : `curation: ${picked.length} tiles picked over ${K} top-level clusters (sizes ${clustersBefore.join(' ')} → ${clustersAfter.join(' ')}).`,
  );

  const list: CuratedTiles = {
    format: CURATED_FORMAT,
    version: 1,
    featureSet: set.id,
    modelId: set.modelId,
    mpp: set.mpp,
    level: set.level,
    createdAt: new Date().toISOString(),
    params: { tilePatches: T, dedupThreshold: threshold, levels: h.ks, target, perImageCap: o.perImageCap ?? 1, seed, mode },
    stats: { candidates: n, duplicates: n - m, distinct: m, clustersBefore, clustersAfter },
    // Weights as written: mean 1 over the list (tile-list.ts), rounded to 6 significant digits.
    tiles: picked.map((i) => ({
      ...cand.tiles[dd.kept[i]],
      cluster: top[i],
      ...(weights ? { weight: Number((weights[i] * m).toPrecision(6)) } : {}),
    })),
  };
  const path = curatedTilesPath(project, o.name ?? 'curated');
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(list));
  return {
    path,
    featureSet: set.id,
    candidates: n,
    duplicates: n - m,
    picked: picked.length,
    levels: h.ks,
    clustersBefore,
    clustersAfter,
    seconds: (performance.now() - t0) / 1000,
  };
}

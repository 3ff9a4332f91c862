// Which feature set the analyses use, and how a set is described to a person. The active set is an
// explicit choice stored in project.json (activeFeatureSet): the user's, or the first completed
// extraction's when none was active. A new or cancelled extraction never changes it on its own. Projects
// made before the choice was recorded fall back to their oldest set with indexed features: adding a set
// never changes which one that is.
import type { FeatureSetInfo } from '../common/api.js';
import { levelMpp, withStatedMpp } from '../data/resolution.js';
import type { StoredFeatureSet, StoredImage } from './schema.js';

/** Whether an image's part of a set can be searched (complete and in the index). */
export const searchable = (i: StoredFeatureSet['images'][number]): boolean => i.complete && i.indexedRows > 0;

/** The active set: the chosen one, else (never chosen) the oldest with indexed features, else null. */
export function resolveActiveSet(sets: readonly StoredFeatureSet[], chosen: string | null | undefined): StoredFeatureSet | null {
  if (typeof chosen === 'string') return sets.find((s) => s.id === chosen) ?? null;
  if (chosen === null) return null;
  const usable = sets.filter((s) => s.images.some(searchable));
  return [...usable].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0] ?? null;
}

/**
 * µm per pixel of the resolution the set was extracted at. A set made by µm/px states it; a set made by
 * pyramid level has it when every image of the set states its µm/px and they agree at that level (else null).
 */
export function setMpp(set: StoredFeatureSet, images: readonly StoredImage[]): number | null {
  if (set.mpp !== null) return set.mpp;
  const byId = new Map(images.map((i) => [i.id, i]));
  const values = new Set<number>();
  for (const fi of set.images) {
    const img = byId.get(fi.imageId);
    const m = img?.meta && withStatedMpp(img.meta, img.statedMpp);
    const mpp = m ? levelMpp(m, set.level ?? 0) : null;
    if (mpp === null) return null;
    values.add(Number(mpp.toPrecision(4)));
  }
  return values.size === 1 ? [...values][0] : null;
}

/** One set as the chooser, the CLI and the analysis panel show it. */
export function featureSetInfo(set: StoredFeatureSet, images: readonly StoredImage[], activeId: string | null): FeatureSetInfo {
  const withFeatures = set.images.filter(searchable);
  const info: FeatureSetInfo = {
    id: set.id,
    modelId: set.modelId,
    mpp: setMpp(set, images),
    level: set.mpp === null ? set.level : null,
    dim: set.dim,
    imagesWithFeatures: withFeatures.filter((fi) => images.some((i) => i.id === fi.imageId)).length,
    images: images.filter((i) => i.status === 'ok').length,
    patches: withFeatures.reduce((s, i) => s + i.indexedRows, 0),
    createdAt: set.createdAt,
    updatedAt: set.updatedAt,
    active: set.id === activeId,
  };
  if (set.context) info.context = set.context;
  if (set.speed) info.patchesPerSecond = set.speed.patchesPerSecond;
  info.indexStore = set.indexStore?.store ?? 'memory';
  if (set.indexStore) info.indexStoreReason = set.indexStore.reason;
  if (set.textAligned) info.textSearch = true;
  return info;
}

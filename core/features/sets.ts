// Choosing and deleting a project's feature sets (the records in project.json features[] and their
// folders cache/features/<set>/ of per-image stores and index/). The CLI (`dinoscope sets`) and the app
// (the feature-set chooser) both come here.
import { rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { FeatureSetInfo } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { Project } from '../project/project.js';
import type { StoredFeatureSet } from '../project/schema.js';

/** The project's sets, oldest first, with coverage and whether each is active. */
export function listFeatureSets(project: Project): FeatureSetInfo[] {
  return project.summary().featureSets ?? [];
}

function requireSet(project: Project, id: unknown): StoredFeatureSet {
  if (typeof id !== 'string' || !id)
    throw new DinoscopeError('BAD_INPUT', 'Name the feature set (its id, as the feature-set list shows it).');
  const set = project.featureSets().find((s) => s.id === id);
  if (!set) {
    const have = project.featureSets().map((s) => s.id);
    throw new DinoscopeError(
      'BAD_INPUT',
      `${project.dir} has no feature set "${id}" (${have.length ? `it has: ${have.join(', ')}` : 'it has none yet: extract features first'}).`,
    );
  }
  return set;
}

/** Makes `id` the set the analyses use, persisted in project.json. */
export async function useFeatureSet(project: Project, id: string): Promise<FeatureSetInfo> {
  requireSet(project, id);
  await project.update((p) => {
    requireSet(p, id);
    p.setActiveFeatureSet(id);
  });
  return listFeatureSets(project).find((s) => s.id === id)!;
}

/** Removes a set's record, then its folder. When it was active, no set is active afterwards. */
export async function deleteFeatureSet(project: Project, id: string): Promise<void> {
  const set = requireSet(project, id);
  const root = join(project.cacheDir, 'features');
  const dir = resolve(project.dir, set.dir);
  // Only ever a folder of cache/features/ (a hand-edited record must not point the deletion elsewhere).
  const inside = dir.startsWith(root + sep) && !relative(root, dir).includes(sep);
  await project.update((p) => p.removeFeatureSet(id));
  if (inside) await rm(dir, { recursive: true, force: true });
}

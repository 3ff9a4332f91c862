// Where a project keeps its curated tile lists: cache/curation/<name>.json (format: core/data/train/tile-list.ts).
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import type { Project } from '../../project/project.js';

export { CURATED_FORMAT, type CuratedTiles } from '../../data/train/tile-list.js';

/** The file of the curated list `name` (letters, digits, '-', '_', '.'). */
export function curatedTilesPath(project: Project, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
    throw new DinoscopeError('BAD_INPUT', `a curated set's name is letters, digits, '.', '-' and '_' (up to 64), got "${name}".`);
  return join(project.cacheDir, 'curation', `${name}.json`);
}

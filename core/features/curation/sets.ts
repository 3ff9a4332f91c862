// The project's curated tile lists as the app shows them: a summary of each (cache/curation/*.json), and a
// preview — a few tiles of every top-level cluster as small JPEGs — so a user can see what each cluster is
// and how the balanced sample changed its share.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharp } from '../../io/sharp.js';
import type { CuratedSetInfo, CuratedSetPreview } from '../../common/api.js';
import { openImage } from '../../data/readers/registry.js';
import { type CuratedTiles, readTileList } from '../../data/train/tile-list.js';
import { readablePath } from '../../project/importer.js';
import type { Project } from '../../project/project.js';
import { curatedTilesPath } from './curated-tiles.js';

/** Preview tiles' side in pixels. */
const PREVIEW_SIDE = 72;

export function curatedSetInfo(name: string, list: CuratedTiles): CuratedSetInfo {
  return {
    name,
    featureSet: list.featureSet,
    modelId: list.modelId,
    createdAt: list.createdAt,
    tiles: list.tiles.length,
    images: new Set(list.tiles.map((t) => t.imageId)).size,
    candidates: list.stats.candidates,
    duplicates: list.stats.duplicates,
    clustersBefore: list.stats.clustersBefore,
    clustersAfter: list.stats.clustersAfter,
  };
}

/** Every readable curated list of the project, newest first (a damaged file is skipped). */
export async function listCuratedSets(project: Project): Promise<CuratedSetInfo[]> {
  const dir = join(project.cacheDir, 'curation');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: CuratedSetInfo[] = [];
  for (const name of names) {
    try {
      out.push(curatedSetInfo(name, await readTileList(curatedTilesPath(project, name))));
    } catch {
      // a half-written or foreign file: not a set to offer
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Up to `perCluster` tiles of each top-level cluster of list `name` (the list's own sampling order). */
export async function curatedSetPreview(project: Project, name: string, perCluster = 6): Promise<CuratedSetPreview> {
  const list = await readTileList(curatedTilesPath(project, name));
  const { clustersBefore, clustersAfter } = list.stats;
  const chosen = clustersAfter.map(() => [] as CuratedTiles['tiles']);
  for (const t of list.tiles) if (t.cluster !== undefined && chosen[t.cluster]?.length < perCluster) chosen[t.cluster].push(t);
  const clusters: CuratedSetPreview['clusters'] = [];
  for (const [cluster, tiles] of chosen.entries()) {
    const samples: CuratedSetPreview['clusters'][number]['samples'] = [];
    for (const t of tiles) {
      const img = project.image(t.imageId);
      if (!img) continue;
      const reader = await openImage(readablePath(project, img));
      try {
        // The coarsest level that still gives the preview its pixels.
        const levels = reader.meta.levels;
        let level = 0;
        while (level + 1 < levels.length && t.size / levels[level + 1].downsample >= PREVIEW_SIDE) level++;
        const ds = levels[level].downsample;
        const side = Math.max(1, Math.round(t.size / ds));
        const region = await reader.readRegion(level, Math.round(t.x / ds), Math.round(t.y / ds), side, side);
        const jpeg = await sharp(region.data, { raw: { width: region.width, height: region.height, channels: 3 } })
          .resize(PREVIEW_SIDE, PREVIEW_SIDE, { fit: 'fill' })
          .jpeg({ quality: 80 })
          .toBuffer();
        samples.push({ imageId: t.imageId, x: t.x, y: t.y, size: t.size, url: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
      } finally {
        await reader.close();
      }
    }
    clusters.push({ cluster, before: clustersBefore[cluster], after: clustersAfter[cluster], samples });
  }
  return { name, clusters };
}

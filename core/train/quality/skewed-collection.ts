// A skewed collection for measuring curated sampling: quality mosaics (textures.ts: the four textures differ
// in structure only) where texture 0 fills about 91 % of the tissue and textures 1, 2 and 3 one 64 × 64 px
// square each (about 3 % each), placed on the 64 px grid at other cells in every image. The project holds
// the images and a synthetic feature set that follows the textures (core/analysis/fixture.ts: each texture
// its own direction plus noise, one row per 16 px patch), so `curate` (core/features/curation) sees the
// collection as an embedding model that separates the textures would show it. Used by
// curated-sampling.test.ts (the mix of sampled tiles) and bench/curation.bench.ts (the lift of pretraining).
import { join } from 'node:path';
import { writeSyntheticFeatures } from '../../analysis/fixture.js';
import { Project } from '../../project/project.js';
import { type QualityLayout, type QualityMosaicSpec, writeQualityMosaics } from './textures.js';

/** Side of a rare texture's square, and of a curation tile (4 patches of 16 px). */
export const SKEWED_CELL = 64;
const PATCH = 16;

export const SKEWED_SPEC: QualityMosaicSpec = { side: 384, frame: 8, seed: 5 };

/** Top-left cell (column, row) of rare texture t (1–3) in image i: three different inner cells per image. */
function rareCell(i: number, t: number): { cx: number; cy: number } {
  return { cx: 1 + ((i + t) % 4), cy: 1 + ((i + 2 * t) % 4) };
}

/** The texture at pixel (x, y) of skewed image i; −1 on the frame. */
export function skewedRegionAt(spec: QualityMosaicSpec, i: number, x: number, y: number): number {
  const { side, frame } = spec;
  if (x < frame || y < frame || x >= side - frame || y >= side - frame) return -1;
  const cx = Math.floor(x / SKEWED_CELL);
  const cy = Math.floor(y / SKEWED_CELL);
  for (let t = 1; t <= 3; t++) {
    const c = rareCell(i, t);
    if (c.cx === cx && c.cy === cy) return t;
  }
  return 0;
}

/**
 * The same share with larger rare regions: one 128 × 128 px square (2 × 2 cells) of rare texture 1 + (i mod 3)
 * in image i, so a tile drawn inside it shows less texture 0 around it (≈ 12 % of the tissue rare, 4 % each).
 */
export function skewedLargeRegionAt(spec: QualityMosaicSpec, i: number, x: number, y: number): number {
  const { side, frame } = spec;
  if (x < frame || y < frame || x >= side - frame || y >= side - frame) return -1;
  const cx = Math.floor(x / SKEWED_CELL) - (1 + (i % 3));
  const cy = Math.floor(y / SKEWED_CELL) - (1 + ((2 * i) % 3));
  return cx >= 0 && cx < 2 && cy >= 0 && cy < 2 ? 1 + (i % 3) : 0;
}

export interface SkewedProject {
  project: Project;
  /** Image ids in image order (image k is skewed image k). */
  ids: string[];
  paths: string[];
}

/** Writes `count` skewed images under dir, a project at dir/project holding them and their synthetic features. */
export async function skewedProject(
  dir: string,
  count: number,
  spec: QualityMosaicSpec = SKEWED_SPEC,
  layout: QualityLayout = skewedRegionAt,
): Promise<SkewedProject> {
  const paths = await writeQualityMosaics(join(dir, 'images'), count, spec, layout);
  const project = await Project.create(join(dir, 'project'));
  const ids = paths.map((_, i) => `s${i}`);
  await project.update((p) =>
    paths.forEach((path, i) =>
      p.upsert({ id: ids[i], path, name: `skewed-${i}.png`, status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
    ),
  );
  // The frame's patches take the texture next to them (texture 0: the rare squares are inner cells).
  const textureOf = (i: number, gx: number, gy: number): number =>
    Math.max(0, layout(spec, i, gx * PATCH + PATCH / 2, gy * PATCH + PATCH / 2));
  await writeSyntheticFeatures(project, ids, { side: spec.side, stride: PATCH, dim: 16, noise: 0.3 }, 'textures', textureOf);
  return { project: await Project.open(project.dir), ids, paths };
}

/** Tiles of `SKEWED_CELL` px for `curate` (its tilePatches). */
export const SKEWED_TILE_PATCHES = SKEWED_CELL / PATCH;

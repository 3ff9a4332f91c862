// The tiles an official trainer reads: for each readable image of the project, a grid of non-overlapping
// square tiles of `tileSize` output pixels at the wanted resolution (the one rule of core/data/resolution.ts,
// through extraction's working resolution with the tile as its "patch": the same level, the same fallback for
// images without a pixel size, the same refusals), kept when the image's foreground mask marks the tile's
// centre — extraction's rule for a tissue patch (core/features/extract/foreground.ts, tissue.ts). A mask
// without any foreground keeps every tile, as extraction does.
import { readFile } from 'node:fs/promises';
import type { MaskSetting, MaskUsed } from '../../common/foreground-mask.js';
import { DinoscopeError } from '../../common/errors.js';
import { resolutionLines } from '../../data/resolution-log.js';
import { mppSource } from '../../data/resolution.js';
import { openImage } from '../../data/readers/registry.js';
import { renderThumbnail } from '../../data/thumbnail.js';
import { imageForeground } from '../../features/extract/foreground.js';
import { collectionRequest, workingResolution } from '../../features/extract/resolution.js';
import { patchMask } from '../../features/extract/tissue.js';
import type { ListedTile } from '../../data/train/tile-list.js';
import { readablePath } from '../../project/importer.js';
import { imageMeta, type Project } from '../../project/project.js';

/** One tile: read the level-0 square (x, y, region) of `path` and scale it to `size` × `size` pixels. */
export interface TrainingTile {
  /** The file to read (a pyramid cache where the project built one). */
  path: string;
  /** The stored level Dinoscope reads it from (a reader picks its own level by downsample region / size). */
  level: number;
  /** Top-left corner in level-0 pixels. */
  x: number;
  y: number;
  /** Output side in pixels. */
  size: number;
  /** Side of the square in level-0 pixels (size × the downsample of the wanted resolution). */
  region: number;
}

export interface TileListImage {
  imageId: string;
  name: string;
  /** µm per output pixel, or null for an image read at a level because it has no pixel size. */
  mpp: number | null;
  level: number;
  mask: MaskUsed;
  /** Its rows in the tile list (a tile of a weighted curated set is written once per row: weighted-rows.ts). */
  tiles: number;
  /** Whole tiles the image holds at this resolution (tissue or not). */
  grid: number;
}

export interface TileListOptions {
  /** µm per output pixel; or a pyramid level (default 0) when absent. */
  mpp?: number;
  level?: number;
  tileSize: number;
  mask?: MaskSetting;
  /**
   * A curated set's squares (core/features/curation, level-0 pixels): one tile centred on each instead of the
   * foreground grid, at the same resolution; images the set does not list get no tiles.
   */
  curated?: readonly ListedTile[];
  /** Rows of each curated tile, in the set's order (weighted-rows.ts); one each when absent. */
  curatedCopies?: ArrayLike<number>;
  log?(line: string): void;
}

export async function trainingTiles(project: Project, o: TileListOptions): Promise<{ tiles: TrainingTile[]; images: TileListImage[] }> {
  const log = o.log ?? ((): void => {});
  const readable = project.images().filter((i) => i.status === 'ok' && i.meta);
  for (const i of project.images()) if (!readable.includes(i)) log(`${i.path}: skipped (${i.reason ?? i.status}).`);
  if (readable.length === 0)
    throw new DinoscopeError('BAD_INPUT', `${project.dir}: no readable images to export tiles of; import images first.`);
  const req = collectionRequest(
    o,
    readable.map((i) => imageMeta(i)?.mpp),
  );
  const plans = readable.map((img) => ({ img, res: workingResolution(imageMeta(img)!, req, o.tileSize, img.path) }));
  const uses = plans.map(({ img, res }) => ({
    path: img.path,
    source: mppSource(img.meta!, img.statedMpp),
    mpp: imageMeta(img)!.mpp,
    level: res.level,
  }));
  for (const line of resolutionLines(uses, o.mpp, 'tiled')) log(line.text);
  const tiles: TrainingTile[] = [];
  const images: TileListImage[] = [];
  for (const { img, res } of plans) {
    const path = readablePath(project, img);
    const meta = img.meta!;
    const summary = (mask: MaskUsed, tiles: number): TileListImage => ({
      imageId: img.id,
      name: img.name,
      mpp: res.mpp,
      level: res.level,
      mask,
      tiles,
      grid: res.gridWidth * res.gridHeight,
    });
    if (o.curated) {
      // The curated squares of this image, each the centre of one tile at the wanted resolution.
      const region = Math.min(Math.round(res.stride), meta.width, meta.height);
      let n = 0;
      let rows = 0;
      o.curated.forEach((t, k) => {
        if (t.imageId !== img.id) return;
        const x = Math.max(0, Math.min(Math.round(t.x + t.size / 2 - region / 2), meta.width - region));
        const y = Math.max(0, Math.min(Math.round(t.y + t.size / 2 - region / 2), meta.height - region));
        const copies = o.curatedCopies?.[k] ?? 1;
        for (let c = 0; c < copies; c++) tiles.push({ path, level: res.level, x, y, size: o.tileSize, region });
        n++;
        rows += copies;
      });
      images.push(summary('off', rows));
      log(`${img.path}: ${n} tiles from the curated set${o.curatedCopies ? `, ${rows} rows by their sampling weights` : ''}.`);
      continue;
    }
    const thumb = await readFile(project.thumbnailPath(img.id)).catch(async () => {
      const reader = await openImage(path);
      try {
        return await renderThumbnail(reader);
      } finally {
        await reader.close();
      }
    });
    const fg = await imageForeground(project, img.id, o.mask ?? 'auto', thumb);
    const keep = fg.hasTissue ? patchMask(fg.mask!, meta.width, meta.height, res.stride, res.gridWidth, res.gridHeight) : null;
    if (fg.mask && !fg.hasTissue) log(`${img.path}: no foreground found on the thumbnail (${fg.used} mask); every tile is listed.`);
    // Whole level-0 pixels: a tile's corner is rounded, its side is the stride rounded (≤ 0.5 px off).
    const region = Math.round(res.stride);
    let n = 0;
    for (let gy = 0; gy < res.gridHeight; gy++)
      for (let gx = 0; gx < res.gridWidth; gx++) {
        if (keep && !keep[gy * res.gridWidth + gx]) continue;
        const x = Math.min(Math.round(gx * res.stride), meta.width - region);
        const y = Math.min(Math.round(gy * res.stride), meta.height - region);
        tiles.push({ path, level: res.level, x, y, size: o.tileSize, region });
        n++;
      }
    images.push(summary(fg.used, n));
    log(`${img.path}: ${n} of ${res.gridWidth * res.gridHeight} tiles on the foreground (${fg.used} mask).`);
  }
  return { tiles, images };
}

const csvField = (v: string | number): string => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The header of the tile list (CSV, RFC 4180 quoting; dinoscope_tiles.py reads it). */
export const TILE_LIST_COLUMNS = ['path', 'level', 'x', 'y', 'size', 'region'] as const;

export function tileListCsv(tiles: readonly TrainingTile[]): string {
  const lines = [TILE_LIST_COLUMNS.join(',')];
  for (const t of tiles) lines.push(TILE_LIST_COLUMNS.map((c) => csvField(t[c])).join(','));
  return lines.join('\n') + '\n';
}

// A small picture of a place in an image for result lists: one DZI tile of the image (its URL from the
// host's template) and the square of it to show, at a level where `side` level-0 pixels span ~96 px.
import type { AnalysisMatch } from '../common/api.js';
import { dziGeometry, levelSize, TILE_SIZE } from '../tiles/dzi.js';
import type { GridImage } from './collection.js';

export const CROP_PX = 96;

export function matchPicture(
  tileTemplate: string,
  g: GridImage,
  x: number,
  y: number,
  side: number,
): Pick<AnalysisMatch, 'thumbnailUrl' | 'crop'> {
  const geo = dziGeometry(g.width, g.height);
  const ds = Math.max(0, Math.min(geo.maxLevel, Math.round(Math.log2(Math.max(1, side / CROP_PX)))));
  const level = geo.maxLevel - ds;
  const d = 2 ** ds;
  const size = levelSize(geo, level);
  const px = Math.min(size.width - 1, Math.max(0, Math.floor(x / d)));
  const py = Math.min(size.height - 1, Math.max(0, Math.floor(y / d)));
  const tx = Math.floor(px / TILE_SIZE);
  const ty = Math.floor(py / TILE_SIZE);
  const tw = Math.min(TILE_SIZE, size.width - tx * TILE_SIZE);
  const th = Math.min(TILE_SIZE, size.height - ty * TILE_SIZE);
  const sq = Math.min(CROP_PX, tw, th);
  const cx = Math.min(Math.max(0, px - tx * TILE_SIZE - sq / 2), tw - sq);
  const cy = Math.min(Math.max(0, py - ty * TILE_SIZE - sq / 2), th - sq);
  const thumbnailUrl = tileTemplate.replace('{level}', String(level)).replace('{x}', String(tx)).replace('{y}', String(ty));
  return { thumbnailUrl, crop: { x: Math.round(cx), y: Math.round(cy), size: sq, tileWidth: tw } };
}

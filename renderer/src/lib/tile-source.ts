// TileSourceInfo → an OpenSeadragon custom tile source (DZI level numbering: maxLevel is full
// resolution; OpenSeadragon's base class owns the pyramid math, we only fill the URL template).
import type { TileSourceInfo } from '../../../core/common/api.js';

export interface OsdTileSourceSpec {
  width: number;
  height: number;
  tileSize: number;
  tileOverlap: number;
  minLevel: number;
  maxLevel: number;
  getTileUrl(level: number, x: number, y: number): string;
}

export function fillTemplate(template: string, level: number, x: number, y: number): string {
  return template.replaceAll('{level}', String(level)).replaceAll('{x}', String(x)).replaceAll('{y}', String(y));
}

/** The image's grid with `tileUrl` (the image's own, or an overlay's on the same grid). */
export function osdTileSource(info: TileSourceInfo, tileUrl: string = info.tileUrl): OsdTileSourceSpec {
  return {
    width: info.width,
    height: info.height,
    tileSize: info.tileSize,
    tileOverlap: info.overlap,
    minLevel: info.minLevel,
    maxLevel: info.maxLevel,
    getTileUrl: (level, x, y) => fillTemplate(tileUrl, level, x, y),
  };
}

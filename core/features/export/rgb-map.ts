// PCA and cluster maps as images: one pixel per patch (or pixelsPerPatch × pixelsPerPatch, nearest
// neighbour), 8-bit RGB, written as PNG (sharp) atomically.
import type { Sharp } from 'sharp';
import { sharp } from '../../io/sharp.js';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { clusterColor } from '../regions.js';
import { withPngPhys } from './png-phys.js';

/** An (h, w, 3) RGB map of the patch grid. */
export interface RgbMap {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Cluster labels (h, w) as colours (clusterColor, the same on every image); labels < 0 are `background`. */
export function labelsToRgb(labels: Int32Array, width: number, height: number, background: [number, number, number] = [0, 0, 0]): RgbMap {
  if (labels.length !== width * height)
    throw new DinoscopeError('BAD_INPUT', `cluster map: ${labels.length} labels for a ${width} × ${height} grid.`);
  const rgb = new Uint8Array(width * height * 3);
  const cache = new Map<number, [number, number, number]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    let c = l < 0 ? background : cache.get(l);
    if (!c) {
      c = clusterColor(l);
      cache.set(l, c);
    }
    rgb.set(c, i * 3);
  }
  return { rgb, width, height };
}

/** The map as a sharp pipeline, enlarged by nearest neighbour to pixelsPerPatch per patch. */
export function mapImage(map: RgbMap, pixelsPerPatch = 1): Sharp {
  if (map.rgb.length !== map.width * map.height * 3)
    throw new DinoscopeError('BAD_INPUT', `map: ${map.rgb.length} bytes for a ${map.width} × ${map.height} RGB grid.`);
  if (!Number.isInteger(pixelsPerPatch) || pixelsPerPatch < 1)
    throw new DinoscopeError('BAD_INPUT', `map: pixelsPerPatch ${pixelsPerPatch} is not a positive integer.`);
  const img = sharp(map.rgb, { raw: { width: map.width, height: map.height, channels: 3 }, limitInputPixels: false });
  return pixelsPerPatch === 1 ? img : img.resize(map.width * pixelsPerPatch, map.height * pixelsPerPatch, { kernel: 'nearest' });
}

/** Write the map as PNG; `umPerPatch` (stride · mpp) sets its pHYs (none when null). */
export async function writeMapPng(path: string, map: RgbMap, pixelsPerPatch = 1, umPerPatch: number | null = null): Promise<void> {
  const png = await mapImage(map, pixelsPerPatch).png({ compressionLevel: 6 }).toBuffer();
  await writeFileAtomic(path, withPngPhys(png, umPerPatch === null ? null : umPerPatch / pixelsPerPatch));
}

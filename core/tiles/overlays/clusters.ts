// "Clusters": k-means labels of the collection, one fixed colour per cluster on every image
// (core/features/regions.ts clusterColor). Labels come from core/analysis/cluster-maps.ts.
import { clusterColor } from '../../features/regions.js';
import type { DziGeometry } from '../dzi.js';
import type { OverlayLegendItem } from './provider.js';
import { CellOverlay, hexColor, type CellLayerSource } from './similarity.js';

export function clusterLegend(k: number, counts?: readonly number[]): OverlayLegendItem[] {
  return Array.from({ length: k }, (_, i) => ({
    label: `cluster ${i}${counts ? ` (${counts[i]} patches)` : ''}`,
    color: hexColor(clusterColor(i)),
  }));
}

/** (n, 4) RGBA of a label grid (labels < 0 transparent). */
export function clusterRgba(labels: Int32Array): Uint8Array {
  const out = new Uint8Array(labels.length * 4);
  const palette = new Map<number, [number, number, number]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0) continue;
    let c = palette.get(l);
    if (!c) palette.set(l, (c = clusterColor(l)));
    out[4 * i] = c[0];
    out[4 * i + 1] = c[1];
    out[4 * i + 2] = c[2];
    out[4 * i + 3] = 255;
  }
  return out;
}

export const clustersOverlay = (source: CellLayerSource, geometry: (imageId: string) => Promise<DziGeometry>): CellOverlay =>
  new CellOverlay('clusters', 'Clusters', 0.6, source, geometry);

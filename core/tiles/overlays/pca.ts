// "PCA": the first three foreground principal components of the collection basis as RGB, background
// (outside the tissue mask, or with the first component at or below the threshold) transparent. Colours come
// from core/analysis/pca-maps.ts.
import type { DziGeometry } from '../dzi.js';
import type { OverlayLegendItem } from './provider.js';
import { CellOverlay, type CellLayerSource } from './similarity.js';

/** threshold null: the foreground is the set's tissue mask (its indexed patches), no component threshold. */
export function pcaLegend(threshold: number | null): OverlayLegendItem[] {
  return [
    { label: 'PC1 → red', color: '#ff0000' },
    { label: 'PC2 → green', color: '#00ff00' },
    { label: 'PC3 → blue', color: '#0000ff' },
    {
      label: threshold === null ? 'background: outside the tissue mask' : `background: first component ≤ ${threshold.toFixed(2)}`,
      color: '#00000000',
    },
  ];
}

export const pcaOverlay = (source: CellLayerSource, geometry: (imageId: string) => Promise<DziGeometry>): CellOverlay =>
  new CellOverlay('pca', 'PCA', 0.75, source, geometry);

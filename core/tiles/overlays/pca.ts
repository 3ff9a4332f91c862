// "PCA": the first three foreground principal components of the collection basis as RGB, background
// (first component at or below the threshold) transparent. Colours come from core/analysis/pca-maps.ts.
import type { DziGeometry } from '../dzi.js';
import type { OverlayLegendItem } from './provider.js';
import { CellOverlay, type CellLayerSource } from './similarity.js';

export function pcaLegend(threshold: number): OverlayLegendItem[] {
  return [
    { label: 'PC1 (foreground) → red', color: '#ff0000' },
    { label: 'PC2 → green', color: '#00ff00' },
    { label: 'PC3 → blue', color: '#0000ff' },
    { label: `background: PC1 ≤ ${threshold.toFixed(2)}`, color: '#00000000' },
  ];
}

export const pcaOverlay = (source: CellLayerSource, geometry: (imageId: string) => Promise<DziGeometry>): CellOverlay =>
  new CellOverlay('pca', 'PCA', 0.75, source, geometry);

import type { OverlayScale } from '../../../../core/common/api.js';

// What the layers panel shows of one overlay.
export interface LayerView {
  id: string;
  name: string;
  visible: boolean;
  opacity: number;
  legend: { label: string; color: string }[];
  /** A heatmap's continuous scale: shown as a colour bar instead of the legend. */
  scale?: OverlayScale;
}

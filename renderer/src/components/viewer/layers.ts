// What the layers panel shows of one overlay.
export interface LayerView {
  id: string;
  name: string;
  visible: boolean;
  opacity: number;
  legend: { label: string; color: string }[];
}

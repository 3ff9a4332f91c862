// The chart series of a run's steps: loss terms (gram only when the run has it; a CAPI run's capi and
// clustering instead of DINO's terms) and the dense-feature health metrics (only the steps where the probe set
// was evaluated).
import type { TrainStepInfo } from '../../../../core/common/api.js';
import type { ChartSeries } from './chart.js';

const lossKeys = [
  { key: 'total', label: 'total', color: '#dfe2e6' },
  { key: 'dino', label: 'DINO', color: '#7fb2d9' },
  { key: 'ibot', label: 'iBOT', color: '#7cc4a0' },
  { key: 'koleo', label: 'KoLeo', color: '#e0b765' },
  { key: 'gram', label: 'Gram', color: '#c39be0' },
] as const;

/** A CAPI run's terms: the student's prediction of the masked patches' clusters and the clustering head's own loss. */
const capiKeys = [
  { key: 'total', label: 'total', color: '#dfe2e6' },
  { key: 'capi', label: 'CAPI', color: '#7fb2d9' },
  { key: 'clustering', label: 'clustering', color: '#e0b765' },
] as const;

export function lossSeries(steps: readonly TrainStepInfo[]): ChartSeries[] {
  const out: ChartSeries[] = [];
  const keys = steps.some((s) => s.losses.capi !== undefined) ? capiKeys : lossKeys;
  for (const k of keys) {
    const points = [];
    for (const s of steps) {
      const v = s.losses[k.key];
      if (v !== undefined) points.push({ x: s.step, y: v });
    }
    if (k.key !== 'gram' || points.length) out.push({ ...k, points });
  }
  return out;
}

export function healthSeries(steps: readonly TrainStepInfo[]): ChartSeries[] {
  const locality: ChartSeries = { key: 'locality', label: 'locality', color: '#7cc4a0', points: [] };
  const region: ChartSeries = { key: 'region', label: 'own region', color: '#7fb2d9', points: [] };
  const cos: ChartSeries = { key: 'cls-patch', label: 'CLS–patch cosine', color: '#e38b86', points: [] };
  for (const s of steps) {
    const h = s.health;
    if (!h) continue;
    locality.points.push({ x: s.step, y: h.locality });
    if (h.region !== undefined) region.points.push({ x: s.step, y: h.region });
    cos.points.push({ x: s.step, y: h.clsPatchCosine });
  }
  return region.points.length ? [locality, region, cos] : [locality, cos];
}

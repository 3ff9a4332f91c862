// How a feature set's resolution reads in messages and panels (core and renderer alike).
import type { FeatureSetInfo } from './api.js';

/** "2 µm/px", "level 1 (2 µm/px)", "level 0": the set's resolution in words. */
export function resolutionText(info: Pick<FeatureSetInfo, 'mpp' | 'level'>): string {
  const um = info.mpp !== null ? `${Number(info.mpp.toPrecision(3))} µm/px` : null;
  if (info.level === null) return um ?? 'unknown resolution';
  return um ? `level ${info.level} (${um})` : `level ${info.level}`;
}

/** "demo-2um (model demo, 2 µm/px)". */
export function featureSetText(info: Pick<FeatureSetInfo, 'id' | 'modelId' | 'mpp' | 'level'>): string {
  return `"${info.id}" (model ${info.modelId}, ${resolutionText(info)})`;
}

// Which tiles a run trains on, as its record, its TrainRunInfo and its CLI summary say it: 'uniform' (every
// image's tissue) or 'curated:NAME' (a curated set, config data.tiles; core/features/curation).
import type { TrainRunData } from '../common/api.js';

/** The data of a run whose config has `data.tiles` = `tiles` (null or absent: uniform sampling). */
export function runDataFor(tiles: unknown): TrainRunData {
  return typeof tiles === 'string' && tiles ? `curated:${tiles}` : 'uniform';
}

/** The data a run record states; a record written before curated sets existed has none: uniform. */
export function recordedRunData(record: { data?: unknown }): TrainRunData {
  const d = record.data;
  return typeof d === 'string' && d.startsWith('curated:') && d.length > 'curated:'.length ? (d as TrainRunData) : 'uniform';
}

/** The data of a run about to start with these config overrides (their `data.tiles`, if any). */
export function overridesRunData(overrides: Record<string, unknown> | undefined): TrainRunData {
  const data = overrides?.data;
  return runDataFor(data !== null && typeof data === 'object' ? (data as { tiles?: unknown }).tiles : undefined);
}

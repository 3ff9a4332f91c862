// Neighbour smoothing of the PCA and cluster maps (core/analysis/smoothing.ts): each patch's features
// averaged with its neighbours' (Gaussian, σ in patches) before the maps are fitted and drawn; search and
// exported features stay per patch. The UI offers the choices; the API and the CLI take any σ in range.
import { DinoscopeError } from './errors.js';

/** The analysis panel's choices, σ in patches (0: off). */
export const MAP_SMOOTHING_CHOICES = [0, 0.5, 1, 2] as const;
/** What the maps use when nobody chose. */
export const DEFAULT_MAP_SMOOTHING = 1;
export const MAX_MAP_SMOOTHING = 8;

export function checkMapSmoothing(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_MAP_SMOOTHING)
    throw new DinoscopeError(
      'BAD_INPUT',
      `Map smoothing must be a number of patches from 0 (off) to ${MAX_MAP_SMOOTHING}, got ${String(v)}.`,
    );
  return v;
}

/** "off", "½ patch", "1 patch", "2 patches". */
export function mapSmoothingLabel(sigma: number): string {
  if (sigma === 0) return 'off';
  if (sigma === 0.5) return '½ patch';
  return `${sigma} patch${sigma === 1 ? '' : 'es'}`;
}

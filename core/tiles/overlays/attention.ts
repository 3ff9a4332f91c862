// "Attention" and "Token norms": maps computed on request for a region (core/features/extract/attention.ts)
// and drawn as heatmap tiles over that region, transparent elsewhere. One store holds the latest maps per
// image; two providers read it. Colours: a five-stop viridis ramp from the map's 2nd to 98th percentile.
import type { OverlayScale } from '../../common/api.js';
import { encodePngRgba } from '../png.js';
import { DinoscopeError } from '../../common/errors.js';
import { levelDownsample, tileRect, type DziGeometry } from '../dzi.js';
import type { OverlayLegendItem, OverlayProvider } from './provider.js';

export interface HeatGrid {
  /** Level-0 pixel of cell (0, 0)'s corner, level-0 pixels per cell. */
  x: number;
  y: number;
  stride: number;
  gridWidth: number;
  gridHeight: number;
  /** (gridHeight, gridWidth) values. */
  values: Float32Array;
  /** What a value means, for the legend (e.g. "× uniform"). */
  unit: string;
}

export type HeatKind = 'attention' | 'token-norm';

const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** RGB of t ∈ [0, 1] on the ramp (linear between stops). */
export function ramp(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

const hex = (c: readonly number[]): string => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

/** Low and high ends of the colour scale: the 2nd and 98th percentiles. */
export function scaleOf(values: Float32Array): { lo: number; hi: number } {
  const s = Float32Array.from(values).sort();
  const lo = s[Math.floor(0.02 * (s.length - 1))];
  const hi = s[Math.ceil(0.98 * (s.length - 1))];
  return { lo, hi: hi > lo ? hi : lo + 1e-6 };
}

/** The latest maps per image and kind, with a version that changes on every update (for tile URLs). */
export class HeatmapStore {
  private readonly grids = new Map<string, { grid: HeatGrid; lo: number; hi: number }>();
  version = 0;

  set(imageId: string, kind: HeatKind, grid: HeatGrid): void {
    this.grids.set(`${imageId}|${kind}`, { grid, ...scaleOf(grid.values) });
    this.version++;
  }

  get(imageId: string, kind: HeatKind): { grid: HeatGrid; lo: number; hi: number } | undefined {
    return this.grids.get(`${imageId}|${kind}`);
  }

  clear(imageId: string): void {
    for (const k of ['attention', 'token-norm'] as const) this.grids.delete(`${imageId}|${k}`);
  }
}

export class HeatmapOverlay implements OverlayProvider {
  readonly defaultOpacity = 0.6;
  readonly name: string;

  constructor(
    readonly id: HeatKind,
    private readonly store: HeatmapStore,
    private readonly geometry: (imageId: string) => Promise<DziGeometry>,
  ) {
    this.name = id === 'attention' ? 'Attention (CLS → patches)' : 'Token norms';
  }

  /** The legend of the latest map (any image): low, middle and high with their values. */
  get legend(): readonly OverlayLegendItem[] {
    return this.legendFor(undefined);
  }

  legendFor(imageId: string | undefined): OverlayLegendItem[] {
    const m = imageId ? this.store.get(imageId, this.id) : undefined;
    const f = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
    const unit = m?.grid.unit ? ` ${m.grid.unit}` : '';
    if (!m)
      return [
        { label: 'low', color: hex(ramp(0)) },
        { label: 'high', color: hex(ramp(1)) },
      ];
    return [
      { label: `≤ ${f(m.lo)}${unit}`, color: hex(ramp(0)) },
      { label: `${f((m.lo + m.hi) / 2)}${unit}`, color: hex(ramp(0.5)) },
      { label: `≥ ${f(m.hi)}${unit}`, color: hex(ramp(1)) },
    ];
  }

  /** The latest map's colour scale on `imageId` as a colour bar, or undefined when it has none. */
  scaleFor(imageId: string): OverlayScale | undefined {
    const m = this.store.get(imageId, this.id);
    if (!m) return undefined;
    return {
      min: m.lo,
      max: m.hi,
      colors: VIRIDIS.map(hex),
      unit: m.grid.unit,
      note: 'Scaled to this map: its 2nd to 98th percentile; values beyond take the end colours.',
    };
  }

  async appliesTo(imageId: string): Promise<boolean> {
    return this.store.get(imageId, this.id) !== undefined;
  }

  async tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    const g = await this.geometry(imageId);
    const rect = tileRect(g, level, x, y);
    if (!rect) throw new DinoscopeError('NOT_FOUND', `Overlay tile ${level}/${x}_${y} is outside image ${imageId}'s grid.`);
    const m = this.store.get(imageId, this.id);
    const rgba = new Uint8Array(rect.width * rect.height * 4); // (h, w, 4)
    if (m) {
      const d = levelDownsample(g, level);
      const { grid, lo, hi } = m;
      for (let j = 0; j < rect.height; j++) {
        // tile px → level-0 px → grid cell
        const cy = Math.floor(((rect.y + j + 0.5) * d - grid.y) / grid.stride);
        if (cy < 0 || cy >= grid.gridHeight) continue;
        for (let i = 0; i < rect.width; i++) {
          const cx = Math.floor(((rect.x + i + 0.5) * d - grid.x) / grid.stride);
          if (cx < 0 || cx >= grid.gridWidth) continue;
          const c = ramp((grid.values[cy * grid.gridWidth + cx] - lo) / (hi - lo));
          const o = 4 * (j * rect.width + i);
          rgba[o] = c[0];
          rgba[o + 1] = c[1];
          rgba[o + 2] = c[2];
          rgba[o + 3] = 255;
        }
      }
    }
    return encodePngRgba(rgba, rect.width, rect.height);
  }
}

// Overlays computed on the patch grid (similarity heatmaps, PCA and cluster maps): one RGBA colour per
// patch, drawn into the image's DZI grid with nearest-neighbour upsampling at every level. The layers
// live in the analysis service (core/analysis); a provider only reads the latest layer of an image.
// "Similarity": cosine of the query to every patch of the image, on a magma-like ramp.
import { encodePngRgba } from '../png.js';
import type { OverlayScale } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { levelDownsample, tileRect, type DziGeometry } from '../dzi.js';
import type { OverlayLegendItem, OverlayProvider } from './provider.js';

/** An image's patch grid with one colour per cell. */
export interface CellLayer {
  /** Level-0 pixels between patches, and the level-0 pixel of patch (0, 0)'s corner. */
  stride: number;
  origin: { x: number; y: number };
  gridWidth: number;
  gridHeight: number;
  /** (gridHeight, gridWidth, 4) RGBA; alpha 0 where nothing is drawn. */
  rgba: Uint8Array;
  legend: OverlayLegendItem[];
}

export type CellLayerSource = (imageId: string) => CellLayer | undefined;

/** Raw RGBA (h, w, 4) of DZI tile (level, tx, ty) of `layer`, or null when the tile is outside the grid. */
export function renderCellTile(
  g: DziGeometry,
  level: number,
  tx: number,
  ty: number,
  layer: CellLayer,
): { rgba: Uint8Array; width: number; height: number } | null {
  const rect = tileRect(g, level, tx, ty);
  if (!rect) return null;
  const d = levelDownsample(g, level);
  const { stride, origin, gridWidth: gw, gridHeight: gh, rgba: src } = layer;
  const out = new Uint8Array(rect.width * rect.height * 4); // (h, w, 4)
  const cols = new Int32Array(rect.width); // tile column → grid column (−1 outside)
  for (let i = 0; i < rect.width; i++) {
    const cx = Math.floor(((rect.x + i + 0.5) * d - origin.x) / stride);
    cols[i] = cx >= 0 && cx < gw ? cx : -1;
  }
  const src32 = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
  const out32 = new Uint32Array(out.buffer);
  for (let j = 0; j < rect.height; j++) {
    const cy = Math.floor(((rect.y + j + 0.5) * d - origin.y) / stride);
    if (cy < 0 || cy >= gh) continue;
    const row = cy * gw;
    const o = j * rect.width;
    for (let i = 0; i < rect.width; i++) if (cols[i] >= 0) out32[o + i] = src32[row + cols[i]];
  }
  return { rgba: out, width: rect.width, height: rect.height };
}

/** A provider drawing the latest CellLayer of an image. Listed by api.overlays only through the
 * analysis calls (which return versioned URLs), so appliesTo is false. */
export class CellOverlay implements OverlayProvider {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly defaultOpacity: number,
    private readonly source: CellLayerSource,
    private readonly geometry: (imageId: string) => Promise<DziGeometry>,
  ) {}

  get legend(): readonly OverlayLegendItem[] {
    return [];
  }

  async appliesTo(): Promise<boolean> {
    return false;
  }

  async tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    const g = await this.geometry(imageId);
    const rect = tileRect(g, level, x, y);
    if (!rect) throw new DinoscopeError('NOT_FOUND', `Overlay tile ${level}/${x}_${y} is outside image ${imageId}'s grid.`);
    const layer = this.source(imageId);
    const t = layer ? renderCellTile(g, level, x, y, layer) : null;
    const rgba = t?.rgba ?? new Uint8Array(rect.width * rect.height * 4);
    return encodePngRgba(rgba, rect.width, rect.height);
  }
}

const MAGMA: readonly (readonly [number, number, number])[] = [
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

/** RGB of t ∈ [0, 1] on the similarity ramp. */
export function similarityColor(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (MAGMA.length - 1);
  const i = Math.min(MAGMA.length - 2, Math.floor(u));
  const f = u - i;
  const a = MAGMA[i];
  const b = MAGMA[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

export const hexColor = (c: readonly number[]): string => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

/**
 * Colours of a cosine map (NaN = no patch): transparent below `lo`, then the ramp from lo to hi with alpha
 * rising from 110 to 235. Returns (n, 4) RGBA.
 */
export function similarityRgba(scores: Float32Array, lo: number, hi: number): Uint8Array {
  const lut = new Uint32Array(256); // t·255 → packed RGBA (little-endian)
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = similarityColor(i / 255);
    const a = Math.round(110 + (125 * i) / 255);
    lut[i] = (r | (g << 8) | (b << 16) | (a << 24)) >>> 0;
  }
  const out = new Uint8Array(scores.length * 4);
  const o32 = new Uint32Array(out.buffer);
  const k = 255 / (hi > lo ? hi - lo : 1e-6);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s >= lo)) continue; // NaN or below the scale
    const t = ((s - lo) * k + 0.5) | 0; // round((s − lo) / span · 255) without a division or Math call per cell
    o32[i] = lut[t > 255 ? 255 : t];
  }
  return out;
}

export function similarityLegend(lo: number, hi: number): OverlayLegendItem[] {
  return [
    { label: `cos ${lo.toFixed(2)}`, color: hexColor(similarityColor(0)) },
    { label: `cos ${((lo + hi) / 2).toFixed(2)}`, color: hexColor(similarityColor(0.5)) },
    { label: `cos ${hi.toFixed(2)}`, color: hexColor(similarityColor(1)) },
  ];
}

/** The similarity ramp as a colour bar from `lo` to `hi`: the scale heatColours chose for one image. */
export function similarityScale(lo: number, hi: number): OverlayScale {
  return {
    min: lo,
    max: hi,
    colors: MAGMA.map(hexColor),
    unit: 'cos',
    note: 'Rescaled for each query and image: scores below the bar are not drawn, the top scores take its brightest colour.',
  };
}

export const similarityOverlay = (source: CellLayerSource, geometry: (imageId: string) => Promise<DziGeometry>): CellOverlay =>
  new CellOverlay('similarity', 'Similarity', 0.65, source, geometry);

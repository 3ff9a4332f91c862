// "Tissue mask": foreground found by Otsu's threshold on the thumbnail's tissue score
// max(saturation, darkness), widened to the faint tissue connected to it and to small enclosed pockets
// (mask-regions.ts: fat, loose stroma, lumens); training samples from it, extraction skips glass with it, and the tiles
// layer draws it as an overlay. Stained tissue is saturated, glass is
// white (unsaturated and bright); darkness catches unstained dark material. A floor on the threshold
// keeps a blank slide blank.
// Two foregrounds: 'brightfield' (stained tissue darker or more saturated than bright glass, the score
// above) and 'fluorescence' (signal brighter than a dark background: the score is brightness,
// max(R, G, B)). 'auto' picks one per image from the thumbnail's background (foreground-mode.ts).
import { sharp } from '../io/sharp.js';
import { lowThreshold, tissueRegions } from './mask-regions.js';
import { otsuThreshold } from './otsu.js';

/** What a mask is computed with; part of its cache key (tissue-mask-cache.ts). */
export interface TissueMaskParams {
  /** Scores at or below this are never tissue, whatever Otsu says (near-white, near-grey glass). */
  minThreshold: number;
  /** Which foreground the score finds (default 'brightfield'). */
  mode?: ForegroundMode;
}

/** What counts as foreground: tissue on bright glass, or signal on a dark background. */
export type ForegroundMode = 'brightfield' | 'fluorescence';

export const DEFAULT_TISSUE_MASK: Readonly<TissueMaskParams> = { minThreshold: 20 };

/** Bump when the same thumbnail and parameters give another mask (score, threshold rule), so that masks
 * cached by an older version are recomputed. */
export const TISSUE_MASK_VERSION = 2;

export interface Mask {
  width: number;
  height: number;
  /** 1 = tissue, row-major (height, width). */
  data: Uint8Array;
}

/** Per-pixel tissue score of interleaved RGB: max(HSV saturation, 255 − value), 0..255. */
export function tissueScore(rgb: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const r = rgb[3 * i];
    const g = rgb[3 * i + 1];
    const b = rgb[3 * i + 2];
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const sat = max === 0 ? 0 : Math.round((255 * (max - min)) / max);
    out[i] = Math.max(sat, 255 - max);
  }
  return out;
}

/** Per-pixel fluorescence score of interleaved RGB: brightness max(R, G, B), 0..255. */
export function signalScore(rgb: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = Math.max(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
  return out;
}

/** The tissue mask of a JPEG thumbnail (computed every call; users go through tissue-mask-cache.ts). */
export async function tissueMaskFromJpeg(jpeg: Uint8Array, params: Readonly<TissueMaskParams> = DEFAULT_TISSUE_MASK): Promise<Mask> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true }); // (h, w, 3)
  const pixels = info.width * info.height;
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const score = params.mode === 'fluorescence' ? signalScore(rgb, pixels) : tissueScore(rgb, pixels);
  const t = Math.max(params.minThreshold, otsuThreshold(score));
  const mask = tissueRegions(score, info.width, info.height, t, lowThreshold(score, t, params.minThreshold));
  return { width: info.width, height: info.height, data: mask };
}

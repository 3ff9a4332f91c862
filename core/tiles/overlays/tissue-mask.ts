// "Tissue mask": foreground found by Otsu's threshold on the thumbnail's tissue score
// max(saturation, darkness), served as translucent PNG tiles. Stained tissue is saturated, glass is
// white (unsaturated and bright); darkness catches unstained dark material. A floor on the threshold
// keeps a blank slide blank.
import sharp from 'sharp';
import { encodePngRgba } from '../png.js';
import { DinoscopeError } from '../../common/errors.js';
import { levelDownsample, tileRect } from '../dzi.js';
import { otsuThreshold } from './otsu.js';
import type { OverlayContext, OverlayProvider } from './provider.js';

/** Scores at or below this are never tissue, whatever Otsu says (near-white, near-grey glass). */
const MIN_THRESHOLD = 20;
const COLOR: readonly [number, number, number] = [0, 200, 83];

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

export async function tissueMaskFromJpeg(jpeg: Uint8Array): Promise<Mask> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true }); // (h, w, 3)
  const pixels = info.width * info.height;
  const score = tissueScore(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pixels);
  const t = Math.max(MIN_THRESHOLD, otsuThreshold(score));
  const mask = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) mask[i] = score[i] > t ? 1 : 0;
  return { width: info.width, height: info.height, data: mask };
}

export class TissueMaskOverlay implements OverlayProvider {
  readonly id = 'tissue-mask';
  readonly name = 'Tissue mask';
  readonly legend = [{ label: 'Tissue', color: '#00c853' }] as const;
  readonly defaultOpacity = 0.4;
  private readonly masks = new Map<string, Promise<Mask>>();

  constructor(private readonly ctx: OverlayContext) {}

  async appliesTo(imageId: string): Promise<boolean> {
    try {
      await this.ctx.thumbnail(imageId);
      return true;
    } catch {
      return false;
    }
  }

  mask(imageId: string): Promise<Mask> {
    let m = this.masks.get(imageId);
    if (!m) {
      m = this.ctx.thumbnail(imageId).then(tissueMaskFromJpeg);
      m.catch(() => this.masks.delete(imageId));
      this.masks.set(imageId, m);
    }
    return m;
  }

  invalidate(imageId: string): void {
    this.masks.delete(imageId);
  }

  async tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array> {
    const g = await this.ctx.geometry(imageId);
    const rect = tileRect(g, level, x, y);
    if (!rect) throw new DinoscopeError('NOT_FOUND', `Overlay tile ${level}/${x}_${y} is outside image ${imageId}'s grid.`);
    const mask = await this.mask(imageId);
    const d = levelDownsample(g, level);
    // Nearest mask pixel for each tile pixel: tile px → full-resolution px → mask px.
    const sx = (d * mask.width) / g.width;
    const sy = (d * mask.height) / g.height;
    const rgba = new Uint8Array(rect.width * rect.height * 4); // (h, w, 4)
    for (let j = 0; j < rect.height; j++) {
      const my = Math.min(mask.height - 1, Math.floor((rect.y + j + 0.5) * sy));
      for (let i = 0; i < rect.width; i++) {
        const mx = Math.min(mask.width - 1, Math.floor((rect.x + i + 0.5) * sx));
        if (mask.data[my * mask.width + mx]) {
          const o = 4 * (j * rect.width + i);
          rgba[o] = COLOR[0];
          rgba[o + 1] = COLOR[1];
          rgba[o + 2] = COLOR[2];
          rgba[o + 3] = 255;
        }
      }
    }
    return encodePngRgba(rgba, rect.width, rect.height);
  }
}

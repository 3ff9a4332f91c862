// The "Tissue mask" overlay: the thumbnail's tissue mask (core/data/tissue-mask.ts, computed once per image
// and cached by core/data/tissue-mask-cache.ts) served as translucent PNG tiles.
import { encodePngRgba } from '../png.js';
import { DinoscopeError } from '../../common/errors.js';
import type { Mask } from '../../data/tissue-mask.js';
import { levelDownsample, tileRect } from '../dzi.js';
import type { OverlayContext, OverlayProvider } from './provider.js';

const COLOR: readonly [number, number, number] = [0, 200, 83];

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
      m = this.ctx.tissueMask(imageId);
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

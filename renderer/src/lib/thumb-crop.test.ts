import { describe, expect, it } from 'vitest';
import { thumbStyle } from './thumb-crop.js';

/** The tile pixel shown at box pixel (bx, by) under a CSS background of that size and position. */
function tilePixelAt(style: { position: string; size: string }, tileWidth: number, bx: number, by: number): [number, number] {
  const [ox, oy] = style.position.split(' ').map((v) => -parseFloat(v));
  const scale = parseFloat(style.size) / tileWidth;
  return [(bx + ox) / scale, (by + oy) / scale];
}

describe('a match picture', () => {
  it('fills the box with the crop of a tile narrower than 256 px (a small image, an edge tile)', () => {
    for (const crop of [
      { x: 32, y: 4, size: 96, tileWidth: 128 },
      { x: 0, y: 100, size: 88, tileWidth: 88 },
      { x: 150, y: 20, size: 96, tileWidth: 256 },
    ]) {
      const style = thumbStyle(crop, 56);
      expect(tilePixelAt(style, crop.tileWidth, 0, 0)).toEqual([crop.x, crop.y]);
      const [ex, ey] = tilePixelAt(style, crop.tileWidth, 56, 56);
      expect(ex).toBeCloseTo(crop.x + crop.size);
      expect(ey).toBeCloseTo(crop.y + crop.size);
    }
  });
});

// encodePngRgba against an independent decoder (sharp/libvips): every pixel, alpha included, reads back.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePngRgba } from './png.js';

describe('encodePngRgba', () => {
  it('writes RGBA that sharp decodes to the same bytes (odd sizes, transparent and opaque pixels)', async () => {
    for (const [w, h] of [
      [256, 256],
      [37, 5],
      [1, 1],
    ]) {
      const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37 + (i >> 7)) % 251); // (h, w, 4)
      for (let p = 0; p < w * h; p += 3) rgba[p * 4 + 3] = 0;
      const png = await encodePngRgba(rgba, w, h);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([w, h, 4]);
      expect(Buffer.compare(data, Buffer.from(rgba))).toBe(0);
    }
    await expect(encodePngRgba(new Uint8Array(10), 2, 2)).rejects.toThrow(RangeError);
  });
});

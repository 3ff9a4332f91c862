// A legal image that is slow to read today, for the tests of hosts that must stay responsive meanwhile:
// a 4096 × 4096 TIFF stored as one LZW tile with horizontal prediction. Its single level is read whole
// for the thumbnail (4096 px is not over the pyramid-cache threshold) and LZW is decoded in JavaScript.
// The pixels are noise of 64 levels, which LZW barely compresses, so the decode takes about 1.8 s on the
// shared development machine when it is quiet (a smooth pattern took 0.6 s, too close to the budgets the
// tests set), where any other image takes milliseconds.
import { sharp } from '../io/sharp.js';

export const SLOW_SIDE = 4096;

/** `height` (default 4096) adds 4096-px tiles below (tiles stay within the readers' 4096 × 4096 tile
 * budget), and makes a read of the whole image slower in proportion (8192: about 3.6 s). */
export async function writeSlowTiff(path: string, height = SLOW_SIDE): Promise<void> {
  const tileHeight = Math.min(height, SLOW_SIDE);
  await sharp(noise(SLOW_SIDE * height * 3), { raw: { width: SLOW_SIDE, height, channels: 3 } })
    .tiff({ tile: true, tileWidth: SLOW_SIDE, tileHeight, compression: 'lzw', predictor: 'horizontal' })
    .toFile(path);
}

/** Deterministic bytes of 64 levels (a linear congruential generator's top 6 bits, scaled to 0–252). */
function noise(n: number): Buffer {
  const buf = Buffer.alloc(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    buf[i] = (s >>> 26) << 2;
  }
  return buf;
}

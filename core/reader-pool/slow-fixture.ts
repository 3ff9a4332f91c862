// A legal image that is slow to read today, for the tests of hosts that must stay responsive meanwhile:
// a 4096 × 4096 TIFF stored as one LZW tile with horizontal prediction. Its single level is read whole
// for the thumbnail (4096 px is not over the pyramid-cache threshold) and LZW is decoded in JavaScript:
// about a second of CPU on the shared development machine, where any other image takes milliseconds.
import { patternImage } from '../data/fixtures/pyramidal-tiff.js';

export const SLOW_SIDE = 4096;

/** `height` (default 4096) adds 4096-px tiles below (tiles stay within the readers' 4096 × 4096 tile
 * budget), and makes a read of the whole image slower in proportion (8192: about 2.6 s). */
export async function writeSlowTiff(path: string, height = SLOW_SIDE): Promise<void> {
  const tileHeight = Math.min(height, SLOW_SIDE);
  await patternImage(SLOW_SIDE, height)
    .tiff({ tile: true, tileWidth: SLOW_SIDE, tileHeight, compression: 'lzw', predictor: 'horizontal' })
    .toFile(path);
}

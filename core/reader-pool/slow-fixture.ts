// A legal image that is slow to read today, for the tests of hosts that must stay responsive meanwhile:
// a 4096 × 4096 TIFF stored as one LZW tile with horizontal prediction. Its single level is read whole
// for the thumbnail (4096 px is not over the pyramid-cache threshold) and LZW is decoded in JavaScript:
// about a second of CPU on the shared development machine, where any other image takes milliseconds.
import { patternImage } from '../data/fixtures/pyramidal-tiff.js';

export const SLOW_SIDE = 4096;

export async function writeSlowTiff(path: string): Promise<void> {
  await patternImage(SLOW_SIDE, SLOW_SIDE).tiff({ tile: true, tileWidth: SLOW_SIDE, tileHeight: SLOW_SIDE, compression: 'lzw', predictor: 'horizontal' }).toFile(path);
}

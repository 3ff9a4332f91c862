// The foreground mask setting of an extraction and how 'auto' resolves it per image. 'brightfield':
// tissue darker or more saturated than bright glass; 'fluorescence': signal brighter than a dark
// background; 'off': every patch is foreground. 'auto' looks at the thumbnail: most of a brightfield
// slide (glass and stained tissue alike) is bright, most of a fluorescence image is dark background, so
// a median brightness max(R, G, B) under DARK_MEDIAN means fluorescence.
import { sharp } from '../io/sharp.js';
import type { MaskSetting, MaskUsed } from '../common/foreground-mask.js';
import type { ForegroundMode } from './tissue-mask.js';

/** Median brightness (0..255) under which a thumbnail is taken for a dark-background (fluorescence) image. */
export const DARK_MEDIAN = 96;

/** Median of max(R, G, B) over a JPEG (or PNG) thumbnail's pixels, 0..255. */
export async function medianBrightness(thumbnail: Uint8Array): Promise<number> {
  const { data, info } = await sharp(thumbnail).removeAlpha().raw().toBuffer({ resolveWithObject: true }); // (h, w, 3)
  const hist = new Float64Array(256);
  const pixels = info.width * info.height;
  for (let i = 0; i < pixels; i++) hist[Math.max(data[3 * i], data[3 * i + 1], data[3 * i + 2])]++;
  let seen = 0;
  for (let v = 0; v < 256; v++) if ((seen += hist[v]) * 2 >= pixels) return v;
  return 255;
}

/** The foreground mode 'auto' picks for an image from its thumbnail. */
export async function autoForegroundMode(thumbnail: Uint8Array): Promise<ForegroundMode> {
  return (await medianBrightness(thumbnail)) < DARK_MEDIAN ? 'fluorescence' : 'brightfield';
}

/** The mask to use for an image under `setting`. */
export async function resolveMask(setting: MaskSetting, thumbnail: () => Promise<Uint8Array>): Promise<MaskUsed> {
  return setting === 'auto' ? autoForegroundMode(await thumbnail()) : setting;
}

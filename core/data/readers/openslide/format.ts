// Routing to OpenSlide. Files that are not TIFF: Hamamatsu VMS/VMU (an INI text naming JPEG files beside
// it, told by its first line) and 3DHISTECH MRXS (a small .mrxs file beside a folder of the same name
// holding Slidedat.ini and the data files: the one format told by its name, since the .mrxs file alone
// says nothing). Vendor flavours of TIFF (vendor-tiff.ts) are sent here by the TIFF format (readers/tiff.ts).
// Without the library these files are refused as UNSUPPORTED with the install line for the platform;
// nothing else depends on it.
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { DinoscopeError } from '../../../common/errors.js';
import type { ImageReader, OpenOptions, ReaderFormat } from '../../reader.js';
import { DEFAULT_MAX_PIXELS } from '../sharp-image.js';
import { openSlideInstallHint } from './install-hint.js';
import { loadOpenSlide } from './library.js';
import { OpenSlideReader, slideMeta } from './reader.js';

const VMS_HEADERS = ['[Virtual Microscope Specimen]', '[Uncompressed Virtual Microscope Specimen]'];

/** The text at the start of `head` (a UTF-8 byte-order mark skipped). */
function headText(head: Uint8Array, n: number): string {
  const from = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return new TextDecoder('latin1').decode(head.subarray(from, from + n));
}

export function isVms(head: Uint8Array): boolean {
  const text = headText(head, 64);
  return VMS_HEADERS.some((h) => text.startsWith(h));
}

export function isMrxs(path: string): boolean {
  return extname(path).toLowerCase() === '.mrxs';
}

/** Set DINOSCOPE_PREFER_OPENSLIDE=1 to read every file OpenSlide recognises through it, even those our
 * own readers handle (generic tiled TIFF, SVS): to compare the two, or to work around a reader's bug. */
export function preferOpenSlide(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DINOSCOPE_PREFER_OPENSLIDE === '1';
}

/** The vendor OpenSlide detects in the file, or null (also when the library is absent). */
export async function openSlideVendor(path: string): Promise<string | null> {
  const lib = await loadOpenSlide();
  return lib.api ? lib.api.detectVendor(path) : null;
}

/** Open `path` (a `what` file, e.g. "Hamamatsu NDPI") through OpenSlide. */
export async function openWithOpenSlide(path: string, what: string, options: OpenOptions = {}): Promise<ImageReader> {
  const lib = await loadOpenSlide();
  if (!lib.api) {
    throw new DinoscopeError(
      'UNSUPPORTED',
      `${path}: needs OpenSlide: this ${what} file is read through the OpenSlide library, which is not installed. To read it, ${openSlideInstallHint()} (${lib.why}).`,
    );
  }
  if (isMrxs(path)) {
    const data = join(dirname(path), basename(path, extname(path)));
    const ini = await stat(join(data, 'Slidedat.ini')).catch(() => null);
    if (!ini?.isFile())
      throw new DinoscopeError(
        'CORRUPT',
        `${path}: its data folder ${data} (with Slidedat.ini) is missing; an MRXS slide is the .mrxs file and the folder of the same name beside it: copy both.`,
      );
  }
  const api = lib.api;
  const osr = api.open(path);
  if (osr === null) throw new DinoscopeError('UNSUPPORTED', `${path}: OpenSlide ${api.version} does not recognise this ${what} file.`);
  try {
    const error = api.error(osr);
    if (error) throw new DinoscopeError('CORRUPT', `${path}: OpenSlide cannot read this ${what} file (${error}).`);
    const { meta, downsamples } = slideMeta(path, api, osr, options.maxPixels ?? DEFAULT_MAX_PIXELS);
    return new OpenSlideReader(path, meta, api, osr, downsamples);
  } catch (err) {
    api.close(osr);
    throw err;
  }
}

export const openSlideFormat: ReaderFormat = {
  id: 'openslide',
  description:
    'Hamamatsu VMS/VMU and 3DHISTECH MRXS through OpenSlide (NDPI, Philips TIFF, Leica SCN and Ventana BIF come through the TIFF format)',
  sniff: (head, path) => isVms(head) || isMrxs(path),
  open: (path, options) => openWithOpenSlide(path, isMrxs(path) ? '3DHISTECH MRXS' : 'Hamamatsu VMS', options),
};

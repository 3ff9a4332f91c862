// The explicit reader registry: formats are listed here, in sniffing order; nothing is discovered by name.
import { DinoscopeError } from '../../common/errors.js';
import { openRegularFile } from '../../io/regular-file.js';
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { dicomFormat } from './dicom.js';
import { jpegFormat } from './jpeg.js';
import { isZarrFolder, omeZarrFormat } from './ome-zarr.js';
import { openSlideFormat } from './openslide/format.js';
import { pngFormat } from './png.js';
import { tiffFormat } from './tiff.js';
import { webpFormat } from './webp.js';

/** OpenSlide's non-TIFF formats come first: an MRXS slide is told by its name, whatever its bytes. DICOM
 * comes before TIFF: a dual-personality DICOM file keeps a TIFF header in its preamble, and is a slide
 * series only as DICOM. OME-Zarr is a folder, told by its Zarr metadata before any bytes are read. */
export const formats: readonly ReaderFormat[] = [
  openSlideFormat,
  dicomFormat,
  pngFormat,
  jpegFormat,
  webpFormat,
  tiffFormat,
  omeZarrFormat,
];

/** How many head bytes formats may sniff. */
export const SNIFF_BYTES = 64 * 1024;

/** The first SNIFF_BYTES of a file (fewer when it is shorter); NOT_FOUND when it cannot be opened,
 * UNSUPPORTED for a FIFO, socket, device or folder (refused at once: a FIFO would block the read). */
export async function readHead(path: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await openRegularFile(path);
  } catch (err) {
    if (err instanceof DinoscopeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DinoscopeError('NOT_FOUND', `${path}: no such file.`);
    if (code === 'EISDIR') throw new DinoscopeError('UNSUPPORTED', `${path}: is a folder, not an image file.`);
    throw new DinoscopeError('NOT_FOUND', `${path}: cannot be opened (${code ?? String(err)}).`);
  }
  try {
    const buf = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EISDIR') throw new DinoscopeError('UNSUPPORTED', `${path}: is a folder, not an image file.`);
      throw err;
    });
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The format whose magic bytes match, or null. */
export function sniffFormat(head: Uint8Array, path: string): ReaderFormat | null {
  return formats.find((f) => f.sniff(head, path)) ?? null;
}

/**
 * Open any supported image. Throws DinoscopeError 'NOT_FOUND' (no file), 'UNSUPPORTED' (unknown format or
 * variant), 'CORRUPT' (damaged or truncated) or 'TOO_LARGE' (declared size over the limit), each with a
 * message naming the file and the problem.
 */
export async function openImage(path: string, options?: OpenOptions): Promise<ImageReader> {
  if (await isZarrFolder(path)) return omeZarrFormat.open(path, options);
  const head = await readHead(path);
  if (head.length === 0) throw new DinoscopeError('CORRUPT', `${path}: the file is empty.`);
  const format = sniffFormat(head, path);
  if (!format)
    throw new DinoscopeError('UNSUPPORTED', `${path}: not an image format Dinoscope reads (${formats.map((f) => f.id).join(', ')}).`);
  return format.open(path, options);
}

// PNG (Portable Network Graphics), decoded whole by libvips (readers/sharp-image.ts).
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { isPng } from '../sniff.js';
import { openSharpImage } from './sharp-image.js';

export const pngFormat: ReaderFormat = {
  id: 'png',
  description: 'PNG (Portable Network Graphics)',
  sniff: (head: Uint8Array): boolean => isPng(head),
  open: (path: string, options?: OpenOptions): Promise<ImageReader> => openSharpImage(path, { format: 'png' }, options),
};

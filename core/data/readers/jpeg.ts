// JPEG, decoded whole by libvips (readers/sharp-image.ts).
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { isJpeg } from '../sniff.js';
import { openSharpImage } from './sharp-image.js';

export const jpegFormat: ReaderFormat = {
  id: 'jpeg',
  description: 'JPEG',
  sniff: (head: Uint8Array): boolean => isJpeg(head),
  open: (path: string, options?: OpenOptions): Promise<ImageReader> => openSharpImage(path, { format: 'jpeg' }, options),
};

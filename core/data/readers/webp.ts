// WebP, decoded whole by libvips (readers/sharp-image.ts).
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { isWebp } from '../sniff.js';
import { openSharpImage } from './sharp-image.js';

export const webpFormat: ReaderFormat = {
  id: 'webp',
  description: 'WebP',
  sniff: (head: Uint8Array): boolean => isWebp(head),
  open: (path: string, options?: OpenOptions): Promise<ImageReader> => openSharpImage(path, { format: 'webp' }, options),
};

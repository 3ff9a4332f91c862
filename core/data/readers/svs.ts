// Aperio SVS: a tiled JPEG TIFF whose first ImageDescription starts "Aperio Image Library …", followed by
// "|key = value" fields (AppMag, MPP, …). Its chain also holds a thumbnail (the second directory, in
// strips) and label and macro images, which are associated images, never pyramid levels.
import type { Ifd } from '../tiff/parse.js';
import { tagString } from '../tiff/parse.js';
import { Tag } from '../tiff/tags.js';

export function isAperio(description: string | null): boolean {
  return description !== null && description.startsWith('Aperio');
}

export interface AperioInfo {
  mpp: number | null;
  vendor: Record<string, string>;
}

/** Fields read from a description (real ones have a few dozen); the rest are ignored. */
export const MAX_APERIO_FIELDS = 200;

/** "Aperio Image Library v12\r\n46000x32914 (256x256) JPEG/RGB Q=70|AppMag = 20|MPP = 0.4990" → fields.
 * Only the first MAX_APERIO_FIELDS fields are read; keys and values are cut by boundedVendor later. */
export function parseAperio(description: string): AperioInfo {
  const [header, ...fields] = description.split('|', MAX_APERIO_FIELDS + 1);
  const vendor: Record<string, string> = { 'aperio.Header': header.slice(0, 4096).replace(/\s+/g, ' ').trim() };
  for (const f of fields) {
    const eq = f.indexOf('=');
    if (eq < 0) continue;
    const key = f.slice(0, eq).trim();
    if (key) vendor[`aperio.${key}`] = f.slice(eq + 1).trim();
  }
  const mpp = Number.parseFloat(vendor['aperio.MPP'] ?? '');
  return { mpp: Number.isFinite(mpp) && mpp > 0 ? mpp : null, vendor };
}

/** Name of an associated (non-level) SVS directory: label, macro or thumbnail. */
export function aperioAssociatedName(ifd: Ifd, index: number): string | null {
  const d = (tagString(ifd, Tag.ImageDescription) ?? '').toLowerCase();
  if (/\blabel\b/.test(d)) return 'label';
  if (/\bmacro\b/.test(d)) return 'macro';
  if (index === 1) return 'thumbnail';
  return null;
}

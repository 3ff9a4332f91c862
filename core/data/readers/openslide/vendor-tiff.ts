// Vendor flavours of TIFF that Dinoscope reads only through OpenSlide, told apart by the parsed
// directories (tiff/parse.ts) the way OpenSlide itself detects them: Hamamatsu NDPI (its private tag
// 65420), Philips TIFF (Software "Philips…" and a DPUfsImport XML description), Leica SCN (Leica's SCN
// XML namespace in the description) and Ventana BIF (an iScan element in a directory's XMP packet).
// Generic tiled TIFF, Aperio SVS and OME-TIFF are not listed: our own readers handle them.
import type { Ifd } from '../../tiff/parse.js';
import { tagString } from '../../tiff/parse.js';
import { Tag } from '../../tiff/tags.js';

export interface VendorTiff {
  /** Short id, used in the image's format id. */
  id: 'ndpi' | 'philips' | 'scn' | 'bif';
  /** What users call it. */
  name: string;
}

/** Directories searched for Ventana's XMP packet (its level and label directories come first). */
const XMP_DIRECTORIES = 16;

function xmpText(ifd: Ifd): string {
  const v = ifd.tags.get(Tag.XMP);
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return typeof v === 'string' ? v : '';
}

/** The vendor flavour of a TIFF whose directories are `ifds`, or null for a TIFF our readers handle. */
export function vendorTiff(ifds: readonly Ifd[]): VendorTiff | null {
  const first = ifds[0];
  if (!first) return null;
  if (first.tags.has(Tag.NdpiFormat)) return { id: 'ndpi', name: 'Hamamatsu NDPI' };
  const description = tagString(first, Tag.ImageDescription) ?? '';
  const software = tagString(first, Tag.Software) ?? '';
  if (software.startsWith('Philips') && description.includes('DPUfsImport')) return { id: 'philips', name: 'Philips TIFF' };
  if (description.includes('leica-microsystems.com/scn')) return { id: 'scn', name: 'Leica SCN' };
  if (ifds.slice(0, XMP_DIRECTORIES).some((ifd) => /<iScan[\s>/]/.test(xmpText(ifd)))) return { id: 'bif', name: 'Ventana BIF' };
  return null;
}

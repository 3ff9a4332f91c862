// A DICOM whole slide is a series: one instance (file) per pyramid level, plus label, overview and
// thumbnail instances, in one folder. Any file of the series opens the whole slide; the folder's other
// DICOM files are told apart by the start of their header (SOP class, series, image type, size), read
// without their per-frame groups or pixels.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileSource } from '../tiff/source.js';
import { WSI_SOP_CLASS } from './instance.js';
import { isDicom, parseDicomHeader, T, text, u32 } from './parse.js';

/** Files of a folder looked at for a series' other instances. */
export const MAX_FOLDER_FILES = 10_000;

export interface SeriesKey {
  path: string;
  seriesUid: string;
  /** The third value of ImageType (VOLUME, LABEL, OVERVIEW, THUMBNAIL). */
  flavour: string;
  /** Total pixel matrix width (0 when not stated). */
  width: number;
}

/** The series a whole-slide DICOM file belongs to, or null when it is not one (or cannot be read). */
export async function seriesKey(path: string): Promise<SeriesKey | null> {
  let source: FileSource | null = null;
  try {
    source = await FileSource.open(path);
    if (source.size < 132 || !isDicom(await source.read(0, 132, 'the DICOM preamble'))) return null;
    const h = await parseDicomHeader(source, T.TotalRows);
    if (text(h.values.get(T.SopClass)) !== WSI_SOP_CLASS) return null;
    const seriesUid = text(h.values.get(T.SeriesUid));
    if (!seriesUid) return null;
    const flavour = (text(h.values.get(T.ImageType)) ?? '').toUpperCase().split('\\')[2]?.trim() || 'VOLUME';
    return { path, seriesUid, flavour, width: u32(h.values.get(T.TotalColumns)) ?? 0 };
  } catch {
    return null;
  } finally {
    await source?.close().catch(() => undefined);
  }
}

/** The other files of `path`'s folder that belong to series `seriesUid`, in name order. */
export async function seriesSiblings(path: string, seriesUid: string): Promise<string[]> {
  const dir = dirname(path);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
    .slice(0, MAX_FOLDER_FILES);
  const out: string[] = [];
  for (const name of names) {
    const p = join(dir, name);
    if (p === path) continue;
    const key = await seriesKey(p);
    if (key?.seriesUid === seriesUid) out.push(p);
  }
  return out;
}

/** One file per whole-slide series among `paths` (its largest VOLUME instance), and the others left out;
 * files that are not whole-slide DICOM are returned as they are. Used by folder import, so a slide of six
 * instances is imported once. */
export async function onePerSeries(paths: readonly string[]): Promise<string[]> {
  const best = new Map<string, SeriesKey>();
  const keep: (string | SeriesKey)[] = [];
  for (const p of paths) {
    const key = await seriesKey(p);
    if (!key) {
      keep.push(p);
      continue;
    }
    const id = `${dirname(p)}\0${key.seriesUid}`;
    const seen = best.get(id);
    const better = (a: SeriesKey, b: SeriesKey): boolean =>
      (a.flavour === 'VOLUME' ? 1 : 0) - (b.flavour === 'VOLUME' ? 1 : 0) > 0 || (a.flavour === b.flavour && a.width > b.width);
    if (!seen) {
      best.set(id, key);
      keep.push(key);
    } else if (better(key, seen)) {
      keep[keep.indexOf(seen)] = key;
      best.set(id, key);
    }
  }
  return keep.map((k) => (typeof k === 'string' ? k : k.path));
}

// Expands what the user named into image files. Explicitly named files are always taken (the reader
// decides whether they are images); in folder walks only files with an image extension or a TIFF, PNG,
// JPEG, WebP or DICOM signature are taken, hidden entries are skipped, and symlinked folders are not followed.
// The data folder beside a 3DHISTECH .mrxs file (same name, no extension) belongs to that slide and is
// not walked: its files are read by OpenSlide through the .mrxs. A DICOM whole slide is a series of files
// (one per pyramid level, label, overview) that any of them opens: a folder walk takes one file per series.
// An OME-Zarr image is a folder (Zarr metadata at its root): it is taken whole, as one image, never walked.
// Nothing found in a walk aborts it: a name that is not valid UTF-8 (a path project.json cannot hold), a
// FIFO, socket or device named like an image, or a subfolder that cannot be read is refused with the
// reason, and the walk goes on.
import { type Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { onePerSeries } from '../data/dicom/series.js';
import { isZarrFolder } from '../data/zarr/folder.js';
import { notRegularKind, notRegularMessage } from '../io/regular-file.js';

const imageExtensions = new Set([
  '.tif',
  '.tiff',
  '.svs',
  '.ome.tif',
  '.ome.tiff',
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.btf',
  '.tf8',
  '.ndpi',
  '.scn',
  '.bif',
  '.mrxs',
  '.vms',
  '.vmu',
  '.dcm',
]);

export interface WalkResult {
  files: string[];
  /** Named paths that do not exist or cannot be imported, and entries of walked folders refused, each with the reason. */
  missing: { path: string; reason: string }[];
}

export function hasImageSignature(head: Uint8Array): boolean {
  const b = head;
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d))) {
    const magic = b[0] === 0x49 ? b[2] | (b[3] << 8) : (b[2] << 8) | b[3];
    if (magic === 42 || magic === 43) return true; // TIFF, BigTIFF
  }
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return true; // PNG
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return true; // JPEG
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP')
    return true;
  if (b.length >= 132 && String.fromCharCode(...b.subarray(128, 132)) === 'DICM') return true; // DICOM Part 10
  return false;
}

const hasImageExtension = (path: string): boolean => imageExtensions.has(extname(path).toLowerCase());

async function looksLikeImage(path: string): Promise<boolean> {
  if (hasImageExtension(path)) return true;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await fh.read(head, 0, 132, 0);
    return hasImageSignature(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The name as text when its bytes are valid UTF-8 (what a path in project.json can hold), else null. */
function utf8Name(raw: Buffer): string | null {
  const text = raw.toString('utf8');
  return Buffer.from(text, 'utf8').equals(raw) ? text : null;
}

type Refused = WalkResult['missing'];

async function walkFolder(dir: string, out: string[], refused: Refused, signal?: AbortSignal): Promise<void> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    refused.push({
      path: dir,
      reason: `${dir}: the folder cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); its images were not imported.`,
    });
    return;
  }
  const images: string[] = [];
  const named = entries.map((e) => ({ e, name: utf8Name(e.name), shown: e.name.toString('utf8') }));
  named.sort((a, b) => a.shown.localeCompare(b.shown));
  const mrxsData = new Set(
    named
      .filter(({ e, shown }) => !e.isDirectory() && extname(shown).toLowerCase() === '.mrxs')
      .map(({ shown }) => shown.slice(0, -'.mrxs'.length)),
  );
  for (const { e, name, shown } of named) {
    signal?.throwIfAborted();
    if (shown.startsWith('.')) continue;
    if (e.isDirectory() && mrxsData.has(shown)) continue;
    const p = join(dir, name ?? shown);
    if (name === null) {
      // Not representable as a JS string path: opening `p` would open another (or no) file.
      if (e.isDirectory() || hasImageExtension(shown) || e.isFile()) {
        refused.push({
          path: p,
          reason: `${p}: the ${e.isDirectory() ? 'folder' : 'file'} name is not valid UTF-8 text (shown here with � for the bad bytes), so Dinoscope cannot record its path; rename it (for example with convmv) and import it again.`,
        });
      }
      continue;
    }
    if (e.isDirectory() && (await isZarrFolder(p))) out.push(p);
    else if (e.isDirectory()) await walkFolder(p, out, refused, signal);
    else if (e.isFile()) {
      if (await looksLikeImage(p).catch(() => false)) {
        out.push(p);
        images.push(p);
      }
    } else if (!e.isSymbolicLink() && hasImageExtension(name)) {
      // A FIFO, socket or device named like an image: say why it is left out (reading a FIFO would block).
      const s = await stat(p).catch(() => null);
      const kind = s ? notRegularKind(s) : null;
      if (kind) refused.push({ path: p, reason: notRegularMessage(p, kind) });
    }
  }
  // The other files of each DICOM series in this folder are left out: the one kept opens them all.
  const kept = new Set(await onePerSeries(images));
  const dropped = new Set(images.filter((p) => !kept.has(p)));
  if (dropped.size > 0) out.splice(0, out.length, ...out.filter((p) => !dropped.has(p)));
}

export async function expandPaths(paths: readonly string[], signal?: AbortSignal): Promise<WalkResult> {
  const files: string[] = [];
  const missing: WalkResult['missing'] = [];
  for (const raw of paths) {
    const p = resolve(raw);
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      missing.push({
        path: p,
        reason: code === 'ENOENT' || code === 'ENOTDIR' ? `${p} does not exist.` : `${p} cannot be read (${code ?? String(err)}).`,
      });
      continue;
    }
    if (s.isDirectory() && (await isZarrFolder(p))) files.push(p);
    else if (s.isDirectory()) await walkFolder(p, files, missing, signal);
    else if (s.isFile()) files.push(p);
    else missing.push({ path: p, reason: notRegularMessage(p, notRegularKind(s) ?? 'not a regular file') });
  }
  return { files: [...new Set(files)], missing };
}

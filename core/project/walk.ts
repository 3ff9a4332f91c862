// Expands what the user named into image files. Explicitly named files are always taken (the reader
// decides whether they are images); in folder walks only files with an image extension or a TIFF, PNG,
// JPEG or WebP signature are taken, hidden entries are skipped, and symlinked folders are not followed.
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';

const imageExtensions = new Set(['.tif', '.tiff', '.svs', '.ome.tif', '.ome.tiff', '.png', '.jpg', '.jpeg', '.webp', '.btf', '.tf8', '.ndpi', '.scn']);

export interface WalkResult {
  files: string[];
  /** Named paths that do not exist, each with the reason. */
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
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return true;
  return false;
}

async function looksLikeImage(path: string): Promise<boolean> {
  if (imageExtensions.has(extname(path).toLowerCase())) return true;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    return hasImageSignature(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

async function walkFolder(dir: string, out: string[], signal?: AbortSignal): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    signal?.throwIfAborted();
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkFolder(p, out, signal);
    else if (e.isFile() && (await looksLikeImage(p).catch(() => false))) out.push(p);
  }
}

export async function expandPaths(paths: readonly string[], signal?: AbortSignal): Promise<WalkResult> {
  const files: string[] = [];
  const missing: WalkResult['missing'] = [];
  for (const raw of paths) {
    const p = resolve(raw);
    let s;
    try {
      s = await stat(p);
    } catch {
      missing.push({ path: p, reason: `${p} does not exist.` });
      continue;
    }
    if (s.isDirectory()) await walkFolder(p, files, signal);
    else if (s.isFile()) files.push(p);
    else missing.push({ path: p, reason: `${p} is neither a file nor a folder.` });
  }
  return { files: [...new Set(files)], missing };
}

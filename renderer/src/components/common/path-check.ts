// What a path typed or chosen in a PathField means for the host: whether it is absolute, the folder it
// lies in, and, from that folder's listing, what is wrong with it in plain words (a file that is not there,
// a folder where a file is wanted, a file where a folder is wanted). A folder that does not exist yet is
// fine: what writes there (Export) creates it.
import type { DirectoryListing } from '../../../../core/common/api.js';

export type PathKind = 'file' | 'folder';

/** An absolute path on the host: /… (Linux, macOS), C:\… or \\server\… (Windows). */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

/** The folder a path lies in (the path itself for a root), and its last name. */
export function splitPath(path: string): { folder: string; name: string } {
  const trimmed = path.length > 1 ? path.replace(/[\\/]+$/, '') : path;
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  if (cut < 0) return { folder: trimmed, name: '' };
  const folder = trimmed.slice(0, cut);
  return { folder: folder === '' || /^[A-Za-z]:$/.test(folder) ? `${folder}${trimmed[cut]}` : folder, name: trimmed.slice(cut + 1) };
}

/** Whether a file name ends with one of `extensions` (without dots, any case; none given: every name). */
export function matchesExtensions(name: string, extensions: readonly string[] | undefined): boolean {
  if (!extensions?.length) return true;
  const lower = name.toLowerCase();
  return extensions.some((e) => lower.endsWith(`.${e.toLowerCase()}`));
}

/** The problem with a non-empty path, before its folder is listed: not absolute. */
export function pathFormProblem(path: string): string | null {
  return isAbsolutePath(path) ? null : `Type a full path (starting with / or a drive letter), or choose it with Choose….`;
}

/**
 * The problem with `path` (absolute) given the listing of the folder it lies in (null: that folder does
 * not exist), or null when it is fine.
 */
export function pathProblem(path: string, kind: PathKind, folder: DirectoryListing | null): string | null {
  const { folder: where, name } = splitPath(path);
  const entry = folder?.entries.find((e) => e.name === name);
  if (kind === 'folder') return entry?.kind === 'file' ? `${path} is a file: choose a folder (or a new folder's name).` : null;
  if (!folder) return `There is no folder ${where}: check the path, or choose the file with Choose….`;
  if (!entry) return `There is no file ${name} in ${where}: check the name, or choose the file with Choose….`;
  if (entry.kind === 'dir') return `${path} is a folder: choose a file in it.`;
  return null;
}

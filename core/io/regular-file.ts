// Opening a path for reading only when it is a regular file. A named pipe (FIFO) blocks a plain open until
// some writer appears, so `dinoscope info fifo` would hang forever; sockets and devices are no image
// either. The open is non-blocking (it returns at once on a FIFO) and the handle's own stat decides, so
// nothing can swap the file between the check and the read.
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { DinoscopeError } from '../common/errors.js';

/** What `s` is when it is not a regular file ('a named pipe (FIFO)', 'a folder', …); null for a regular file. */
export function notRegularKind(s: Stats): string | null {
  if (s.isFile()) return null;
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** The sentence refusing `path`, which is `kind`. */
export function notRegularMessage(path: string, kind: string): string {
  return `${path} is ${kind}, not a regular file: Dinoscope reads only regular files; name the file itself.`;
}

/** O_NONBLOCK where the platform has it (not on Windows, which has no FIFOs in the file system either). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens `path` for reading; UNSUPPORTED naming what it is when it is a FIFO, socket, device or folder.
 * Errors of the open itself (ENOENT, EACCES, …) are thrown as they are, for the caller to word.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const fh = await open(path, READ_FLAGS);
  try {
    const kind = notRegularKind(await fh.stat());
    if (kind) throw new DinoscopeError('UNSUPPORTED', notRegularMessage(path, kind));
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** The text of the regular file `path` (UTF-8); UNSUPPORTED for a FIFO, socket, device or folder. */
export async function readRegularText(path: string): Promise<string> {
  const fh = await openRegularFile(path);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** openRegularFile with the open's own failures worded too: NOT_FOUND for a missing file, else BAD_INPUT. */
export async function openRegularFileForReading(path: string): Promise<FileHandle> {
  try {
    return await openRegularFile(path);
  } catch (err) {
    if (err instanceof DinoscopeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DinoscopeError('NOT_FOUND', `${path}: no such file.`);
    throw new DinoscopeError('BAD_INPUT', `${path}: cannot be opened (${code ?? String(err)}).`);
  }
}

// The serve host's own folder browser: entries of one folder, folders first, each group sorted by name,
// hidden entries (dot files) left out. Symlinks are listed as what they point to.
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DirectoryListing } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';

export async function listDirectory(path: string): Promise<DirectoryListing> {
  const abs = resolve(path);
  let dirents;
  try {
    dirents = await readdir(abs, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DinoscopeError('NOT_FOUND', `${abs} does not exist.`);
    if (code === 'ENOTDIR') throw new DinoscopeError('BAD_INPUT', `${abs} is not a folder.`);
    throw new DinoscopeError('FORBIDDEN', `${abs} cannot be read (${code ?? String(err)}).`);
  }
  const entries: DirectoryListing['entries'] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const p = join(abs, d.name);
    let isDir = d.isDirectory();
    let bytes: number | undefined;
    if (d.isSymbolicLink() || d.isFile()) {
      try {
        const s = await stat(p);
        isDir = s.isDirectory();
        if (s.isFile()) bytes = s.size;
        else if (!isDir) continue;
      } catch {
        continue; // a dangling link
      }
    } else if (!isDir) continue; // sockets, fifos, devices
    entries.push(isDir ? { name: d.name, path: p, kind: 'dir' } : { name: d.name, path: p, kind: 'file', bytes });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = dirname(abs);
  return { path: abs, parent: parent === abs ? null : parent, entries };
}

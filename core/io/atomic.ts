// Atomic file writes: write a temp file beside the target, then rename over it (POSIX rename is atomic),
// so a reader never sees a half-written file and a crash or error leaves the old version intact.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh hidden temp path in the target's directory (same file system, so the rename is atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Runs `write(tmp)` to produce the file at a temp path, then renames it over `target`; on any error the temp file is removed. */
export async function replaceAtomic(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await write(tmp);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes `data` to `target` atomically. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await replaceAtomic(target, (tmp) => writeFile(tmp, data));
}

/** Opens a temp file for writing, lets `write` fill it through the handle, closes it and renames it over `target`. */
export async function writeHandleAtomic(target: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  await replaceAtomic(target, async (tmp) => {
    const fh = await open(tmp, 'w');
    try {
      await write(fh);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    await fh.close();
  });
}

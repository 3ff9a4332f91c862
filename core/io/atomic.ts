// Atomic, durable file writes: write a temp file beside the target, fsync it, rename it over the target
// (POSIX rename is atomic), then fsync the folder so the rename itself survives a power cut. A reader never
// sees a half-written file; a crash, a full disk or any other error leaves the old version intact; and
// once the write resolves, the new version is on the disk, not only in the page cache. Every state file
// (project.json with its run records, feature-store manifests, checkpoints, model manifests) is written
// through here. Feature-store chunks, many small files committed together, are written atomically at once and
// made durable together at their store's commit (writeFileAtomicLazy, syncFiles).
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What was synced: a file's data ('file', its final path) or a folder's entries ('folder'). */
export type SyncKind = 'file' | 'folder';
type SyncListener = (kind: SyncKind, path: string) => void;
const listeners = new Set<SyncListener>();

/** Calls `listener` after every fsync this module does (for tests and diagnostics); returns the unsubscribe. */
export function onSync(listener: SyncListener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

function synced(kind: SyncKind, path: string): void {
  for (const l of listeners) l(kind, path);
}

/** A fresh hidden temp path in the target's directory (same file system, so the rename is atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Folder fsync errors that mean "this platform or file system cannot sync a folder" (Windows, some network shares). */
const NO_FOLDER_SYNC = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

/**
 * Flushes `dir`'s entries (a rename or a new file in it) to the disk. Best effort where the platform
 * cannot open or sync a folder; any other failure (EIO, …) is thrown.
 */
export async function syncFolder(dir: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(dir, 'r');
  } catch (err) {
    if (NO_FOLDER_SYNC.has((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  try {
    await fh.sync();
    synced('folder', dir);
  } catch (err) {
    if (!NO_FOLDER_SYNC.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh.close();
  }
}

/** fsync of the complete temp file `tmp` that will become `target`. */
async function syncFile(tmp: string, target: string): Promise<void> {
  const fh = await open(tmp, 'r+'); // writable: Windows flushes only handles opened for writing
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  synced('file', target);
}

/**
 * Runs `write(tmp)` to produce the file at a temp path, fsyncs it, renames it over `target` and fsyncs
 * the folder; on any error the temp file is removed and `target` is untouched. With `durable` false, no
 * fsync: the replace is atomic, and `syncFiles` makes it durable later.
 */
export async function replaceAtomic(target: string, write: (tmp: string) => Promise<void>, durable = true): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await write(tmp);
    if (durable) await syncFile(tmp, target);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined); // (ENOTDIR when the folder itself is the problem) the first error is the one to report
    // The user knows the target, not our hidden temp file (a failed write on a full disk names no file at all).
    if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') (err as { dest?: string }).dest ??= target;
    throw err;
  }
  if (durable) await syncFolder(dirname(target));
}

/**
 * Writes `data` to `target` atomically but not yet durably: a temp file renamed over `target`, no fsync. A reader
 * never sees a half-written file, but a power cut may lose the new version until `syncFiles` has made it durable.
 * For many small files committed together (feature-store chunks): one fsync per file and one per folder at the
 * commit instead of two fsyncs per file, each waited for in turn.
 */
export async function writeFileAtomicLazy(target: string, data: Uint8Array): Promise<void> {
  await replaceAtomic(target, (tmp) => writeFile(tmp, data), false);
}

/** Makes files written by `writeFileAtomicLazy` durable: fsyncs each file's data (several at once), then each of their folders once. */
export async function syncFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => syncFile(p, p)));
  for (const dir of new Set(paths.map((p) => dirname(p)))) await syncFolder(dir);
}

/** Writes `data` to `target` atomically and durably. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await writeHandleAtomic(target, (fh) => fh.writeFile(data));
}

/** Opens a temp file for writing, lets `write` fill it through the handle, closes it and renames it over `target` (durably, as replaceAtomic). */
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

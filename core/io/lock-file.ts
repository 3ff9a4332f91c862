// The file primitives of our cross-process locks (core/project/lock.ts around project.json, the per-image
// locks of sharded extraction): a lock is a file created with O_EXCL ('wx') that holds who took it; a
// stale one is taken over by renaming it to a private name and checking that the renamed file is the one
// judged stale (a fresh lock put there meanwhile is linked back). When a lock is stale, and how long one
// waits, is each lock's own policy.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';

export interface LockHolder {
  pid: number;
  host: string;
  /** When it was taken, ms since the epoch. */
  time: number;
  /** Unique per acquisition: release and takeover compare it. */
  token: string;
}

/** A lock file as read: its text, its holder (null while half-written or damaged) and its mtime. */
export interface SeenLock {
  text: string;
  holder: LockHolder | null;
  mtimeMs: number;
}

export const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    return typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.time === 'number' && typeof v.token === 'string'
      ? (v as LockHolder)
      : null;
  } catch {
    return null;
  }
}

/** The lock file as it is now, or null when there is none. */
export async function readLockFile(file: string): Promise<SeenLock | null> {
  try {
    const [text, s] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { text, holder: parseHolder(text), mtimeMs: s.mtimeMs };
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** Creates the lock file holding `holder`; false when it exists. A failed write leaves no nameless lock. */
export async function createLockFile(file: string, holder: LockHolder): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'wx');
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(JSON.stringify(holder));
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(file).catch(() => undefined); // e.g. a full disk
    throw err;
  }
  await fh.close();
  return true;
}

/** Removes the stale lock `seen`, and only that one: a lock taken or touched meanwhile is put back. */
export async function takeOverLockFile(file: string, seen: SeenLock): Promise<void> {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return; // released or taken over by another waiter
    throw err;
  }
  const moved = await readLockFile(aside);
  if (moved && (moved.text !== seen.text || moved.mtimeMs !== seen.mtimeMs)) {
    // A fresh lock replaced the stale one between our look and the rename: restore it (link fails if a
    // third process created another meanwhile; then the fresh holder's release finds the token changed).
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

// The per-image lock of a feature set: `<set>/<image>.zarr.lock`, created with O_EXCL ('wx'), holding who
// extracts that image ({pid, host, time, token}). Shards of one extraction (`dinoscope extract --shard`,
// separate processes, possibly on separate machines sharing the project folder) write into one set; the
// lock makes sure one image's store has one writer at a time. Unlike the project lock (core/project/
// lock.ts, held for milliseconds) it is held for the whole image (minutes on a slide), so its holder
// touches the file (mtime) every `heartbeatMs`: a lock is stale when, on this host, its pid no longer
// exists (a shard killed with -9: its rerun takes over at once), or (any host) its mtime is older than
// `staleMs` (a machine that died). A stale lock is taken over as the project lock does it: renamed aside,
// checked to be the one judged stale, a fresh one linked back.
import { randomBytes } from 'node:crypto';
import { unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type LockHolder, type SeenLock, createLockFile, pidAlive, readLockFile, takeOverLockFile } from '../../io/lock-file.js';

export interface ImageLockOptions {
  /** Age of the lock file's mtime after which it is stale whoever holds it. Default 120 s. */
  staleMs?: number;
  /** How often the holder touches its lock. Default 15 s. */
  heartbeatMs?: number;
}

export const IMAGE_LOCK_DEFAULTS: Required<ImageLockOptions> = { staleMs: 120_000, heartbeatMs: 15_000 };

/** A lock this process holds; `release()` removes it (only if it is still ours). */
export interface ImageLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Who holds a lock that is not free, in words (for the log). */
export interface LockedBy {
  locked: true;
  by: string;
}

/** Tokens of the image locks this process holds. */
const held = new Set<string>();

/** Why the lock `seen` is stale, or null while its holder may still be working. */
function staleReason(seen: SeenLock, now: number, staleMs: number): string | null {
  const h = seen.holder;
  if (h && h.host === hostname()) {
    if (h.pid !== process.pid && !pidAlive(h.pid)) return `its process ${h.pid} has exited`;
    if (h.pid === process.pid && !held.has(h.token)) return `an earlier process with pid ${h.pid} left it`;
  }
  const age = now - seen.mtimeMs;
  return age > staleMs ? `untouched for ${Math.round(age / 1000)} s` : null;
}

/**
 * Takes the lock `file` without waiting: the lock, or who holds it while they are alive. A stale lock is
 * taken over (`onStale` says whose and why).
 */
export async function tryImageLock(
  file: string,
  options: ImageLockOptions = {},
  onStale?: (why: string) => void,
): Promise<ImageLock | LockedBy> {
  const o = { ...IMAGE_LOCK_DEFAULTS, ...options };
  const me: LockHolder = { pid: process.pid, host: hostname(), time: Date.now(), token: randomBytes(8).toString('hex') };
  for (;;) {
    me.time = Date.now();
    if (await createLockFile(file, me)) break;
    const seen = await readLockFile(file);
    if (!seen) continue;
    const why = staleReason(seen, Date.now(), o.staleMs);
    if (why === null) {
      const h = seen.holder;
      return {
        locked: true,
        by: h ? `process ${h.pid} on ${h.host} since ${new Date(h.time).toISOString()}` : 'a process that has not written its name yet',
      };
    }
    onStale?.(`${file}: taking over a stale lock (${why})`);
    await takeOverLockFile(file, seen);
  }
  held.add(me.token);
  const mine = async (): Promise<boolean> => (await readLockFile(file).catch(() => null))?.holder?.token === me.token;
  const beat = setInterval(() => {
    void mine().then((ok) => {
      if (!ok) return;
      const t = new Date();
      return utimes(file, t, t).catch(() => undefined);
    });
  }, o.heartbeatMs);
  beat.unref();
  return {
    file,
    async release() {
      clearInterval(beat);
      held.delete(me.token);
      if (await mine()) await unlink(file).catch(() => undefined);
    },
  };
}

export function isLocked(x: ImageLock | LockedBy): x is LockedBy {
  return 'locked' in x;
}

// A cross-process advisory lock beside a file: `<file>.lock`, created with O_EXCL ('wx'), holding who took
// it ({pid, host, time, token}). Every writer of project.json takes it around its read-modify-write
// (project.ts update()), so two processes — the app and a training child, or two CLI runs — never
// interleave a read and a write. It is held for milliseconds (a JSON read, a mutation, an atomic write).
//
// A lock is stale when its holder is gone: on this host its pid no longer exists, or (any host, pid reuse,
// a holder that hangs) it is older than `staleMs`. A stale lock is taken over by renaming it to a private
// name and checking the renamed file is the one judged stale (a waiter that renamed a fresh lock put there
// meanwhile links it back). A live lock is waited for, polling with backoff, up to `waitMs`, then the
// waiter fails with an error naming the lock file and its holder.
//
// Within one process, locks on the same file are also queued in memory (withFileLock), so the file lock
// only ever arbitrates between processes.
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DinoscopeError } from '../common/errors.js';
import { type LockHolder, type SeenLock, createLockFile, pidAlive, readLockFile, takeOverLockFile } from '../io/lock-file.js';

export type { LockHolder } from '../io/lock-file.js';

export interface LockOptions {
  /** How long to wait for a live lock before failing. Default 30 s. */
  waitMs?: number;
  /** Age after which a lock is stale even if its pid seems alive. Default 20 s (holds last milliseconds). */
  staleMs?: number;
  /** First poll interval while waiting; doubles up to 100 ms. Default 5 ms. */
  pollMs?: number;
}

export const LOCK_DEFAULTS: Required<LockOptions> = { waitMs: 30_000, staleMs: 20_000, pollMs: 5 };

export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tokens of the locks this process holds now. */
const held = new Set<string>();

/** Why a lock is stale, or null while its holder may still be working. */
export function staleReason(seen: { holder: LockHolder | null; mtimeMs: number }, now: number, staleMs: number): string | null {
  const h = seen.holder;
  if (h && h.host === hostname()) {
    if (h.pid !== process.pid && !pidAlive(h.pid)) return `its process ${h.pid} has exited`;
    // Our pid but not one of our locks: an earlier process that had this pid left it.
    if (h.pid === process.pid && !held.has(h.token)) return `an earlier process with pid ${h.pid} left it`;
  }
  const age = now - (h?.time ?? seen.mtimeMs);
  return age > staleMs ? `it is ${Math.round(age / 1000)} s old` : null;
}

function describeHolder(seen: SeenLock | null): string {
  const h = seen?.holder;
  return h ? `process ${h.pid} on ${h.host} since ${new Date(h.time).toISOString()}` : 'a process that has not written its name yet';
}

/** Takes the lock on `file` (waiting for a live holder, taking over a stale one); returns its holder record. */
export async function acquireLock(file: string, options: LockOptions = {}): Promise<LockHolder> {
  const o = { ...LOCK_DEFAULTS, ...options };
  const lock = lockPathFor(file);
  const me: LockHolder = { pid: process.pid, host: hostname(), time: Date.now(), token: randomBytes(8).toString('hex') };
  const deadline = Date.now() + o.waitMs;
  let poll = o.pollMs;
  for (;;) {
    me.time = Date.now();
    if (await createLockFile(lock, me)) {
      held.add(me.token);
      return me;
    }
    const seen = await readLockFile(lock);
    if (!seen) continue; // released between our attempt and the look
    if (staleReason(seen, Date.now(), o.staleMs) !== null) {
      await takeOverLockFile(lock, seen);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new DinoscopeError(
        'INTERNAL',
        `${file} is locked by ${describeHolder(seen)} (lock file ${lock}); waited ${Math.round(o.waitMs / 1000)} s. If no Dinoscope process is working on this project, delete the lock file.`,
      );
    }
    await sleep(poll * (0.5 + Math.random()));
    poll = Math.min(poll * 2, 100);
  }
}

/** Releases a lock taken by acquireLock, unless it was taken over meanwhile (then it is no longer ours). */
export async function releaseLock(file: string, holder: LockHolder): Promise<void> {
  const lock = lockPathFor(file);
  held.delete(holder.token);
  const seen = await readLockFile(lock);
  if (seen?.holder?.token === holder.token) await unlink(lock).catch(() => undefined);
}

/** In-process queue per file: callers in one process take turns before touching the file lock. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` holding the lock on `file`: after this process's earlier callers, and exclusive across processes. */
export function withFileLock<T>(file: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
  const before = queues.get(file) ?? Promise.resolve();
  const run = before.then(async () => {
    const holder = await acquireLock(file, options);
    try {
      return await fn();
    } finally {
      await releaseLock(file, holder);
    }
  });
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

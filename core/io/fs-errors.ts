// Plain words for the file-system errors Node reports by code (ENOSPC, EISDIR, …): a failed read or write
// names the path, what is wrong with it and what to do, instead of a system call's name.

const PLAIN: Record<string, string> = {
  ENOSPC: 'the disk is full; free some space and run the command again',
  EDQUOT: 'the disk quota is used up; free some space and run the command again',
  EFBIG: 'the file grew larger than this file system allows',
  EISDIR: 'is a folder where a file is expected; move the folder away or choose another path',
  ENOTDIR: 'a part of this path is a file where a folder is expected; move that file away or choose another path',
  ENOTEMPTY: 'the folder is not empty',
  EEXIST: 'already exists',
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied; check the permissions of the file and its folder',
  EPERM: 'this operation is not permitted here',
  EROFS: 'the file system is read-only; choose a writable folder',
  ENAMETOOLONG: 'a name in this path is too long for the file system; use a shorter one',
  ELOOP: 'too many symbolic links (a link points to itself?)',
  EIO: 'the disk reported an input/output error; check the disk',
  EMFILE: 'too many files are open; raise the open-file limit (ulimit -n)',
  ENFILE: 'too many files are open on this system',
  EXDEV: 'the move crosses file systems',
  EBUSY: 'the file or device is busy',
  ENXIO: 'no such device',
  ESTALE: 'the network file system handle is stale; remount and run the command again',
};

/** A sentence for an error with a Node file-system code (null for anything else). */
export function describeFsError(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return null;
  const what = PLAIN[e.code];
  if (!what) return null;
  // A rename's `path` is our hidden temp file; the user knows the destination (core/io/atomic.ts sets it
  // to the target on every failed atomic write).
  const path = e.dest ?? e.path;
  return `${path ? `${path}: ` : 'a file operation failed: '}${what} (${e.code}${e.syscall ? ` in ${e.syscall}` : ''}).`;
}

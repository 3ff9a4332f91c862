// Reading a LanceDB table's index files once, front to back, so the operating system's file cache holds them
// before the first queries. A query probes a few dozen IVF partitions and reads their quantized codes from the
// index file; read cold, each partition is a random read from disk, and at 2·10^7 rows that made the slowest
// queries twice as slow as the same queries with the file cached (p95 of LanceDB's part 96 vs 50 ms,
// bench/RESULTS.md). One sequential pass costs about a second a gigabyte and no resident memory: the bytes
// go to the file cache, which the kernel gives back when other programs need it (pg_prewarm's idea).
// LanceDB's own prewarmIndex would instead decode the whole index into its cache, inside this process.
// The files are those of the table's newest index: LanceDB keeps a table in a folder named after it (with a
// unique suffix in its namespace layout), and each index built in `_indices/<uuid>/`; an index replaced by a
// rebuild stays there until the table is cleaned up, so the newest folder is the one queries read.
// Only local stores are read (an object store has no file cache to fill), and only while the index files
// fit a quarter of the machine's memory: beyond that the cache could not keep them anyway.
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';

/** Bytes read per call: large sequential reads, one buffer reused. */
const READ_BYTES = 8 * 2 ** 20;

export interface PrewarmResult {
  /** Index files found, bytes. */
  bytes: number;
  /** Bytes read into the file cache (0 when skipped). */
  read: number;
  /** Why nothing was read, in words, when nothing was. */
  skipped?: string;
}

/** The entries of folder `dir`; none when it cannot be read (left to the queries, which report it). */
async function entries(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function files(dir: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const e of await entries(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.isFile()) out.push({ path: p, size: (await stat(p)).size });
  }
  return out;
}

/** The folder of the newest index of table `table` in database folder `db`, or null. */
async function newestIndex(db: string, table: string): Promise<string | null> {
  let best: { dir: string; t: number } | null = null;
  for (const t of await entries(db)) {
    if (!t.isDirectory() || !(t.name === `${table}.lance` || (t.name.startsWith(`${table}-`) && t.name.endsWith('.lance')))) continue;
    const indices = join(db, t.name, '_indices');
    for (const u of await entries(indices)) {
      if (!u.isDirectory()) continue;
      const dir = join(indices, u.name);
      const time = (await stat(dir)).mtimeMs;
      if (!best || time > best.t) best = { dir, t: time };
    }
  }
  return best?.dir ?? null;
}

/**
 * Read the index files of LanceDB table `table` in the database at `uri` once, so that they are in the file
 * cache. `stop()` true ends the pass early (the store was closed). Never throws: a file that cannot be read is
 * left to the queries, which report it.
 */
export async function prewarmLanceIndex(
  uri: string,
  table: string,
  opts: { stop?: () => boolean; memoryBytes?: number } = {},
): Promise<PrewarmResult> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) return { bytes: 0, read: 0, skipped: 'object store' };
  const dir = await newestIndex(uri.replace(/^file:\/\//, ''), table);
  if (!dir) return { bytes: 0, read: 0, skipped: 'no index' };
  const list = await files(dir);
  const bytes = list.reduce((s, f) => s + f.size, 0);
  const budget = (opts.memoryBytes ?? totalmem()) / 4;
  if (bytes > budget) return { bytes, read: 0, skipped: `index files ${(bytes / 1e9).toFixed(1)} GB exceed a quarter of memory` };
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let read = 0;
  for (const f of list) {
    if (opts.stop?.()) break;
    let fh;
    try {
      fh = await open(f.path, 'r');
      for (let at = 0; at < f.size;) {
        if (opts.stop?.()) break;
        const { bytesRead } = await fh.read(buf, 0, READ_BYTES, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        read += bytesRead;
      }
    } catch {
      // Left to the queries.
    } finally {
      await fh?.close();
    }
  }
  return { bytes, read };
}

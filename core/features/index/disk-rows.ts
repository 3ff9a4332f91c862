// The int8 rows of an index read from its chunk files on demand (chunk-NNNNNN.i8, FORMAT in
// ../store/FORMAT.md), for the LanceDB-backed index, which keeps no rows resident: a query re-ranks its
// candidates, and draws heatmaps, from these. Reads are synchronous preads of whole rows (stride bytes
// each, contiguous rows in one read), so a caller fills a scratch row space and scores it without
// yielding in between; the files stay open.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { chunkName, type IndexManifest } from './catalog.js';

export class DiskRows {
  private readonly fds = new Map<number, number>();

  constructor(
    private readonly dir: string,
    private readonly manifest: IndexManifest,
  ) {}

  private fd(c: number): number {
    let fd = this.fds.get(c);
    if (fd === undefined) {
      const path = join(this.dir, chunkName(c, 'i8'));
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        throw new DinoscopeError('CORRUPT', `${path}: index chunk missing (${(e as Error).message}); run dinoscope index again.`);
      }
      this.fds.set(c, fd);
    }
    return fd;
  }

  /** Rows [from, from + n) into dst (n × stride int8), across chunk files. */
  read(from: number, n: number, dst: Int8Array): void {
    const { chunkRows, stride } = this.manifest;
    let at = 0;
    while (at < n) {
      const r = from + at;
      const c = Math.floor(r / chunkRows);
      const m = Math.min(n - at, (c + 1) * chunkRows - r);
      const bytes = m * stride;
      const view = new Uint8Array(dst.buffer, dst.byteOffset + at * stride, bytes);
      let got = 0;
      while (got < bytes) {
        const k = readSync(this.fd(c), view, got, bytes - got, (r - c * chunkRows) * stride + got);
        if (k === 0)
          throw new DinoscopeError('CORRUPT', `${join(this.dir, chunkName(c, 'i8'))}: index chunk truncated; run dinoscope index again.`);
        got += k;
      }
      at += m;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

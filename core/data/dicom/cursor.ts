// Sequential little-endian reading of a DICOM file through a small window: the header is parsed in order
// without ever holding more than one window (8 KiB, or one value) of a file that may be gigabytes, and
// values nobody asked for are skipped by moving the position, not read.
import { DinoscopeError } from '../../common/errors.js';
import type { FileSource } from '../tiff/source.js';

/** Small: a folder's headers are read to find a series' instances, and most headers are a few KiB. */
const WINDOW = 8 * 1024;

export class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  pos: number;

  constructor(
    readonly source: FileSource,
    start: number,
  ) {
    this.pos = start;
  }

  get size(): number {
    return this.source.size;
  }

  /** Makes [pos, pos + n) readable from the window; CORRUPT when the file ends before. */
  private async ensure(n: number, what: string): Promise<number> {
    if (this.pos + n > this.source.size)
      throw new DinoscopeError(
        'CORRUPT',
        `${this.source.path}: ${what} lies beyond the end of the file (${this.pos + n} > ${this.source.size} bytes; truncated?).`,
      );
    const at = this.pos - this.bufStart;
    if (at >= 0 && at + n <= this.buf.length) return at;
    const length = Math.min(Math.max(n, WINDOW), this.source.size - this.pos);
    this.buf = await this.source.read(this.pos, length, what);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
    return 0;
  }

  /** Loads the window so the next `n` bytes (or the rest of the file, if shorter) can be read with the
   * synchronous readers below: one await per element header instead of one per field. */
  async prefetch(n: number, what: string): Promise<void> {
    const want = Math.min(n, this.source.size - this.pos);
    const at = this.pos - this.bufStart;
    if (want <= 0 || (at >= 0 && at + want <= this.buf.length)) return;
    await this.ensure(want, what);
  }

  /** A field inside the prefetched bytes; CORRUPT when the file ends before it. */
  private now(n: number, what: string): number {
    if (this.pos + n > this.source.size)
      throw new DinoscopeError(
        'CORRUPT',
        `${this.source.path}: ${what} lies beyond the end of the file (${this.pos + n} > ${this.source.size} bytes; truncated?).`,
      );
    const at = this.pos - this.bufStart;
    if (at < 0 || at + n > this.buf.length) throw new Error(`cursor read at ${this.pos} outside its prefetched window`);
    this.pos += n;
    return at;
  }

  u16Now(what: string): number {
    return this.view.getUint16(this.now(2, what), true);
  }

  u32Now(what: string): number {
    return this.view.getUint32(this.now(4, what), true);
  }

  async u16(what: string): Promise<number> {
    const at = await this.ensure(2, what);
    this.pos += 2;
    return this.view.getUint16(at, true);
  }

  async u32(what: string): Promise<number> {
    const at = await this.ensure(4, what);
    this.pos += 4;
    return this.view.getUint32(at, true);
  }

  /** `n` bytes as a copy (the window is replaced by later reads). */
  async bytes(n: number, what: string): Promise<Uint8Array> {
    const at = await this.ensure(n, what);
    this.pos += n;
    return this.buf.slice(at, at + n);
  }

  /** Moves past `n` bytes without reading them; CORRUPT when they run past the end of the file. */
  skip(n: number, what: string): void {
    if (this.pos + n > this.source.size)
      throw new DinoscopeError(
        'CORRUPT',
        `${this.source.path}: ${what} lies beyond the end of the file (${this.pos + n} > ${this.source.size} bytes; truncated?).`,
      );
    this.pos += n;
  }
}

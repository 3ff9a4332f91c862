// Random access to a (possibly 10+ GB) file: reads only the bytes asked for, each checked against the
// file's size so a corrupt offset becomes a CORRUPT error instead of a short read or a huge allocation.
import { open, type FileHandle } from 'node:fs/promises';
import { DinoscopeError } from '../../common/errors.js';

/** The largest single read we allow (a tile, a tag's values): 256 MiB. */
export const MAX_READ = 256 * 2 ** 20;

export class FileSource {
  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new DinoscopeError('NOT_FOUND', `${path}: cannot be opened (${code ?? String(err)}).`);
    }
    const { size } = await fh.stat();
    return new FileSource(path, size, fh);
  }

  /** Exactly `length` bytes at `offset`; CORRUPT when they lie outside the file. */
  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || length > MAX_READ) {
      throw new DinoscopeError('CORRUPT', `${this.path}: ${what} has an impossible offset or length (${offset}, ${length}).`);
    }
    if (offset + length > this.size) {
      throw new DinoscopeError(
        'CORRUPT',
        `${this.path}: ${what} lies beyond the end of the file (${offset + length} > ${this.size} bytes; truncated?).`,
      );
    }
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new DinoscopeError('CORRUPT', `${this.path}: ${what} could not be read (file shrank?).`);
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

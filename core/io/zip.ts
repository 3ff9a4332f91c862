// Reading entries of a ZIP archive in place, without loading it: the central directory is parsed (ZIP64
// included, for archives and entries past 4 GiB), and each entry is a byte range of the file. Written for
// PyTorch's checkpoint format (a ZIP of stored, uncompressed records, aligned so tensors can be read where
// they lie); deflated entries are inflated when asked for whole, up to a size limit.
// Only what a reader needs: no writing, no encryption, no multi-disk archives.
import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { DinoscopeError } from '../common/errors.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; others are refused when read. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The end-of-central-directory record is 22 bytes plus a comment of at most 65,535. */
const EOCD_SEARCH = 22 + 0xffff;
/** A central directory larger than this is not a checkpoint's (PyTorch writes ~100 bytes per tensor). */
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

const u64 = (b: Buffer, at: number): number => {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('a 64-bit size beyond 2^53');
  return Number(v);
};

export class ZipArchive {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly fileSize: number,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  /** Parses the central directory of the archive open as `fh`; CORRUPT when it is not a ZIP or is damaged. */
  static async open(path: string, fh: FileHandle): Promise<ZipArchive> {
    const corrupt = (what: string): never => {
      throw new DinoscopeError('CORRUPT', `${path}: ${what}.`);
    };
    const size = (await fh.stat()).size;
    const tailStart = Math.max(0, size - EOCD_SEARCH);
    const tail = await readAt(fh, tailStart, size - tailStart);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
        at = i;
        break;
      }
    }
    if (at < 0) return corrupt('is not a ZIP archive (no end-of-central-directory record)');
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
      const rec = await readAt(fh, u64(tail, at - 20 + 8), 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD) return corrupt('has a damaged ZIP64 end-of-central-directory record');
      count = u64(rec, 32);
      dirSize = u64(rec, 40);
      dirOffset = u64(rec, 48);
    }
    if (dirSize > MAX_DIRECTORY_BYTES || dirOffset + dirSize > size)
      return corrupt(`has a ZIP directory of ${dirSize} bytes at ${dirOffset} that does not fit the ${size}-byte file`);
    const dir = await readAt(fh, dirOffset, dirSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) return corrupt(`has a damaged ZIP directory (entry ${i} of ${count})`);
      const method = dir.readUInt16LE(p + 10);
      let compressedSize = dir.readUInt32LE(p + 20);
      let uncompressed = dir.readUInt32LE(p + 24);
      const nameLen = dir.readUInt16LE(p + 28);
      const extraLen = dir.readUInt16LE(p + 30);
      const commentLen = dir.readUInt16LE(p + 32);
      let headerOffset = dir.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > dir.length)
        return corrupt(`has a damaged ZIP directory (entry ${i} runs past its end)`);
      const name = dir.toString('utf8', p + 46, p + 46 + nameLen);
      // ZIP64 extra field: the 64-bit values of the fields stored as 0xFFFFFFFF, in this order.
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
        const id = dir.readUInt16LE(e);
        const len = dir.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressed === 0xffffffff && q + 8 <= e + 4 + len) {
            uncompressed = u64(dir, q);
            q += 8;
          }
          if (compressedSize === 0xffffffff && q + 8 <= e + 4 + len) {
            compressedSize = u64(dir, q);
            q += 8;
          }
          if (headerOffset === 0xffffffff && q + 8 <= e + 4 + len) headerOffset = u64(dir, q);
        }
        e += 4 + len;
      }
      if (headerOffset + 30 + compressedSize > size)
        return corrupt(`entry "${name}" of the ZIP runs past the end of the file: it is truncated`);
      entries.set(name, { name, method, compressedSize, size: uncompressed, headerOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(path, fh, size, entries);
  }

  /** Absolute file offset of a stored entry's data (after its local header). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const h = await readAt(this.fh, entry.headerOffset, 30);
    if (h.length < 30 || h.readUInt32LE(0) !== LOCAL)
      throw new DinoscopeError('CORRUPT', `${this.path}: the ZIP entry "${entry.name}" has no local header where the directory says.`);
    const start = entry.headerOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + entry.compressedSize > this.fileSize)
      throw new DinoscopeError('CORRUPT', `${this.path}: the ZIP entry "${entry.name}" is truncated.`);
    return start;
  }

  /** `length` bytes at `offset` into a stored (uncompressed) entry. */
  async readRange(entry: ZipEntry, offset: number, length: number): Promise<Uint8Array> {
    if (entry.method !== 0)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${this.path}: the ZIP entry "${entry.name}" is compressed; only stored entries can be read in place.`,
      );
    if (offset < 0 || offset + length > entry.size)
      throw new DinoscopeError(
        'CORRUPT',
        `${this.path}: ${length} bytes at ${offset} run past the ${entry.size}-byte entry "${entry.name}".`,
      );
    const start = await this.dataOffset(entry);
    const out = new Uint8Array(new ArrayBuffer(length)); // own buffer: offset 0, aligned for typed views
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(out, got, length - got, start + offset + got);
      if (bytesRead === 0) throw new DinoscopeError('CORRUPT', `${this.path}: the ZIP entry "${entry.name}" is truncated.`);
      got += bytesRead;
    }
    return out;
  }

  /** A whole entry, inflated when deflated; refused above `maxBytes`. */
  async read(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    if (entry.size > maxBytes)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${this.path}: the ZIP entry "${entry.name}" holds ${entry.size} bytes, more than the ${maxBytes} this reader accepts.`,
      );
    if (entry.method === 0) return this.readRange(entry, 0, entry.size);
    if (entry.method !== 8)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${this.path}: the ZIP entry "${entry.name}" uses compression method ${entry.method}; only stored and deflated entries are read.`,
      );
    const raw = await readAt(this.fh, await this.dataOffset(entry), entry.compressedSize);
    try {
      return new Uint8Array(inflateRawSync(raw, { maxOutputLength: maxBytes }));
    } catch (err) {
      throw new DinoscopeError('CORRUPT', `${this.path}: the ZIP entry "${entry.name}" does not inflate (${(err as Error).message}).`);
    }
  }
}

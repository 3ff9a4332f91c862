// A read-only Zarr store over a folder (zarrita's Readable): keys map to files under the root and never
// outside it (a key with "..", or a symlink that leads out of the folder, is refused), every file is size-checked before it is read (metadata documents 16 MiB, chunks 256 MiB),
// and a compressed chunk whose own header claims more bytes than its array's chunk holds (blosc, zstd) is
// refused before the decoder allocates them. A missing key reads as undefined (a missing chunk is the
// fill value, as Zarr says).
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';

export const MAX_METADATA_BYTES = 16 * 2 ** 20;
export const MAX_CHUNK_BYTES = 256 * 2 ** 20;

export type ChunkCompressor = 'blosc' | 'zstd' | 'other';

/** Bytes a compressed chunk says it decodes to, from its header; null where it does not say. */
export function claimedSize(bytes: Uint8Array, compressor: ChunkCompressor): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (compressor === 'blosc') return bytes.length >= 16 ? view.getUint32(4, true) : null;
  if (compressor !== 'zstd' || bytes.length < 6 || view.getUint32(0, true) !== 0xfd2fb528) return null;
  const fhd = bytes[4];
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? single : [1, 2, 4, 8][fcsFlag];
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (fcsBytes === 0 || at + fcsBytes > bytes.length) return null;
  if (fcsBytes === 1) return bytes[at];
  if (fcsBytes === 2) return view.getUint16(at, true) + 256;
  if (fcsBytes === 4) return view.getUint32(at, true);
  return Number(view.getBigUint64(at, true));
}

export class FolderStore {
  private readonly root: string;
  /** Per array path (e.g. "/0"): its compressor and the bytes one decoded chunk holds. */
  private readonly arrays = new Map<string, { compressor: ChunkCompressor; chunkBytes: number }>();

  /** The folder with its symlinks resolved, once. */
  private realRoot: Promise<string> | null = null;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Refuses a file that a symlink puts outside the folder (read access to the rest of the disk). */
  private async inside(path: string, key: string): Promise<void> {
    this.realRoot ??= realpath(this.root).catch(() => this.root);
    const root = await this.realRoot;
    const real = await realpath(path);
    if (real !== root && !real.startsWith(root + sep))
      throw new DinoscopeError('CORRUPT', `${this.root}: the key ${key} points outside the Zarr folder (a symbolic link to ${real}).`);
  }

  /** Chunks under `arrayPath` are checked against `chunkBytes` before they are decoded. */
  expect(arrayPath: string, compressor: ChunkCompressor, chunkBytes: number): void {
    this.arrays.set(arrayPath.replace(/\/$/, ''), { compressor, chunkBytes });
  }

  private file(key: string): string {
    const p = resolve(join(this.root, ...key.split('/').filter((s) => s !== '')));
    if (p !== this.root && !p.startsWith(this.root + sep))
      throw new DinoscopeError('CORRUPT', `${this.root}: the key ${key} points outside the Zarr folder.`);
    return p;
  }

  async get(key: `/${string}`): Promise<Uint8Array | undefined> {
    const path = this.file(key);
    const name = key.slice(key.lastIndexOf('/') + 1);
    const isMetadata = name.startsWith('.z') || name === 'zarr.json';
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return undefined;
      size = s.size;
    } catch {
      return undefined;
    }
    await this.inside(path, key);
    const limit = isMetadata ? MAX_METADATA_BYTES : MAX_CHUNK_BYTES;
    if (size > limit)
      throw new DinoscopeError(
        'CORRUPT',
        `${path}: ${size} bytes, more than a Zarr ${isMetadata ? 'metadata document' : 'chunk'} may take (${limit}).`,
      );
    const bytes = new Uint8Array(await readFile(path));
    if (!isMetadata) {
      let array: { compressor: ChunkCompressor; chunkBytes: number } | undefined;
      let longest = -1;
      for (const [prefix, a] of this.arrays)
        if (key.startsWith(`${prefix}/`) && prefix.length > longest) [array, longest] = [a, prefix.length];
      if (array) {
        // Blosc decodes a cut chunk without complaint: its header states the chunk's full length.
        if (array.compressor === 'blosc' && (bytes.length < 16 || new DataView(bytes.buffer).getUint32(12, true) !== bytes.length))
          throw new DinoscopeError(
            'CORRUPT',
            `${this.root}: the chunk ${key} is ${bytes.length} bytes, not the length its blosc header states (truncated?).`,
          );
        const claimed = claimedSize(bytes, array.compressor);
        if (claimed !== null && claimed > array.chunkBytes)
          throw new DinoscopeError(
            'CORRUPT',
            `${this.root}: the chunk ${key} says it decodes to ${claimed} bytes, more than the ${array.chunkBytes} of its array's chunks.`,
          );
      }
    }
    return bytes;
  }
}

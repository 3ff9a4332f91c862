// The tissue mask computed once per image and kept with it: the training sampler, extraction and the
// "Tissue mask" overlay all ask here, and the first to ask computes it (tissue-mask.ts) and writes it to
// the file its caller names (a project keeps it at cache/tissue-masks/<image id>.mask, beside the
// thumbnail it is computed from). The file holds its key: a hash of the thumbnail's bytes, the mask
// parameters and TISSUE_MASK_VERSION. A caller whose key matches reads the mask; any change (a new
// thumbnail after a re-import, other parameters, a new version of the mask code) recomputes it and
// replaces the file atomically. An unreadable or foreign file is recomputed too: the cache is disposable,
// and a cache that cannot be written (a read-only folder) costs only the recomputation next time.
//
// File layout: "DSTM", the key (32 bytes, sha-256), width and height (u32 little-endian), then
// width × height bytes, 1 = tissue, row-major (height, width).
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { DEFAULT_TISSUE_MASK, TISSUE_MASK_VERSION, tissueMaskFromJpeg, type Mask, type TissueMaskParams } from './tissue-mask.js';

const MAGIC = 'DSTM';
const HEADER = 4 + 32 + 8;

/** The cache key of the mask of `thumbnail` with `params` (32 bytes). */
export function tissueMaskKey(thumbnail: Uint8Array, params: Readonly<TissueMaskParams> = DEFAULT_TISSUE_MASK): Buffer {
  return createHash('sha256')
    .update(
      `tissue-mask v${TISSUE_MASK_VERSION} ${JSON.stringify({ minThreshold: params.minThreshold, ...(params.mode === 'fluorescence' ? { mode: params.mode } : {}) })}\0`,
    )
    .update(thumbnail)
    .digest();
}

/** The mask stored in `file` under `key`, or null when the file is missing, unreadable or keyed otherwise. */
export async function readTissueMaskFile(file: string, key: Uint8Array): Promise<Mask | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 4) !== MAGIC || !bytes.subarray(4, 36).equals(key)) return null;
  const width = bytes.readUInt32LE(36);
  const height = bytes.readUInt32LE(40);
  if (width < 1 || height < 1 || bytes.length !== HEADER + width * height) return null;
  return { width, height, data: new Uint8Array(bytes.subarray(HEADER)) };
}

/** Writes `mask` under `key` to `file` atomically (its folder is made when missing). */
export async function writeTissueMaskFile(file: string, key: Uint8Array, mask: Mask): Promise<void> {
  const bytes = Buffer.alloc(HEADER + mask.data.length);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.set(key, 4);
  bytes.writeUInt32LE(mask.width, 36);
  bytes.writeUInt32LE(mask.height, 40);
  bytes.set(mask.data, HEADER);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes);
}

/**
 * The tissue mask of a JPEG thumbnail: read from `file` when it was computed from the same thumbnail with
 * the same parameters and mask version, else computed and written there. Without a file it is computed.
 */
export async function cachedTissueMask(
  thumbnail: Uint8Array,
  file: string | undefined,
  params: Readonly<TissueMaskParams> = DEFAULT_TISSUE_MASK,
): Promise<Mask> {
  if (!file) return tissueMaskFromJpeg(thumbnail, params);
  const key = tissueMaskKey(thumbnail, params);
  const cached = await readTissueMaskFile(file, key);
  if (cached) return cached;
  const mask = await tissueMaskFromJpeg(thumbnail, params);
  await writeTissueMaskFile(file, key, mask).catch(() => undefined); // the mask is right either way; the next caller recomputes it
  return mask;
}

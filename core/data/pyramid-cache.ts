// A tiled pyramidal TIFF built once for a large image without a native pyramid (a 40,000 × 30,000 JPEG
// or strip TIFF), in the caller's cache folder (the project's cache/). libvips (sharp) streams the source
// and writes a JPEG-tiled pyramid; the result is opened by the tiled TIFF reader. The cache file is named
// by the source's absolute path, size and mtime, so it is reused until the source changes, and it is
// written atomically (temp file + rename).
//
// Progress: libvips decodes the source sequentially, so the read position of its file descriptor
// (/proc/self/fdinfo on Linux) tells how far it is; elsewhere only start and end are reported.
// Cancelling rejects at once with CANCELLED; libvips cannot be interrupted, so the running build
// finishes in the background and its temp file is deleted, never renamed.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sharp } from '../io/sharp.js';
import type { ImageMetadata } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import { sharpError } from './readers/sharp-image.js';
import { replaceAtomic } from '../io/atomic.js';

/** Images without a native pyramid whose longest side exceeds this get a pyramid cache. */
export const PYRAMID_CACHE_MIN_SIDE = 4096;

export interface PyramidCacheOptions {
  /** Progress in source bytes read: done of total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Tile side of the cache (default 256). */
  tile?: number;
}

/** True for a large image that has only one level (no native pyramid). */
export function needsPyramidCache(meta: ImageMetadata): boolean {
  return meta.levels.length <= 1 && Math.max(meta.width, meta.height) > PYRAMID_CACHE_MIN_SIDE;
}

/** Where the cache of `srcPath` lives (or will): keyed by absolute path, size and mtime. */
export async function pyramidCachePath(srcPath: string, cacheDir: string): Promise<string> {
  const abs = resolve(srcPath);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new DinoscopeError('NOT_FOUND', `${srcPath}: no such file.`);
  }
  const key = createHash('sha256')
    .update(`${abs}\0${st.size}\0${Math.round(st.mtimeMs)}`)
    .digest('hex')
    .slice(0, 24);
  return join(resolve(cacheDir), `pyramid-${key}.tif`);
}

/** Read position of this process's descriptors open on `path` (Linux), or null. */
async function readPosition(path: string): Promise<number | null> {
  try {
    let best: number | null = null;
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target !== path) continue;
      const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
      const m = /^pos:\s*(\d+)/m.exec(info);
      if (m) best = Math.max(best ?? 0, Number(m[1]));
    }
    return best;
  } catch {
    return null;
  }
}

/** Build (or reuse) the pyramid cache of srcPath in cacheDir; resolves to the cache file's path. */
export async function buildPyramidCache(srcPath: string, cacheDir: string, options: PyramidCacheOptions = {}): Promise<string> {
  const { onProgress, signal } = options;
  const abs = resolve(srcPath);
  const target = await pyramidCachePath(abs, cacheDir);
  const total = (await stat(abs)).size;
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  ) {
    onProgress?.(total, total);
    return target;
  }
  if (signal?.aborted) throw new DinoscopeError('CANCELLED', `${srcPath}: pyramid cache cancelled.`);
  await mkdir(cacheDir, { recursive: true });
  onProgress?.(0, total);
  const tile = options.tile ?? 256;
  const work = replaceAtomic(target, async (tmp) => {
    await sharp(abs, { limitInputPixels: false, sequentialRead: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .tiff({ tile: true, pyramid: true, tileWidth: tile, tileHeight: tile, compression: 'jpeg', quality: 90, bigtiff: total > 2 ** 30 })
      .toFile(tmp);
    if (signal?.aborted) throw new DinoscopeError('CANCELLED', `${srcPath}: pyramid cache cancelled.`);
  })
    .then(() => target)
    .catch((err: unknown) => {
      throw err instanceof DinoscopeError ? err : sharpError(srcPath, err);
    });
  let last = 0;
  const timer = setInterval(() => {
    void readPosition(abs).then((pos) => {
      if (pos !== null && pos > last && pos <= total) {
        last = pos;
        onProgress?.(pos, total);
      }
    });
  }, 250);
  try {
    const cancelled = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(new DinoscopeError('CANCELLED', `${srcPath}: pyramid cache cancelled.`)), {
        once: true,
      });
    });
    work.catch(() => undefined); // a cancelled build still settles; its error is not unhandled
    const path = await Promise.race([work, cancelled]);
    onProgress?.(total, total);
    return path;
  } finally {
    clearInterval(timer);
  }
}

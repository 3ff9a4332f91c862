// Thumbnails: JPEG, longest side 256, read from the smallest pyramid level that still has ≥ 256 px.
import { sharp } from '../io/sharp.js';
import type { ImageReader } from './reader.js';
import { writeFileAtomic } from '../io/atomic.js';

export const THUMBNAIL_SIZE = 256;

/** Index of the smallest level whose longest side is still ≥ `size` (level 0 when none is). */
export function thumbnailLevel(levels: readonly { width: number; height: number }[], size = THUMBNAIL_SIZE): number {
  let best = 0;
  levels.forEach((l, i) => {
    if (Math.max(l.width, l.height) >= size && Math.max(l.width, l.height) < Math.max(levels[best].width, levels[best].height)) best = i;
  });
  return best;
}

export async function renderThumbnail(reader: ImageReader): Promise<Buffer> {
  const levelIndex = thumbnailLevel(reader.meta.levels);
  const level = reader.meta.levels[levelIndex];
  const rgb = await reader.readRegion(levelIndex, 0, 0, level.width, level.height); // (h, w, 3)
  return sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' })
    .jpeg({ quality: 85, mozjpeg: false })
    .toBuffer();
}

export async function writeThumbnail(reader: ImageReader, target: string): Promise<void> {
  await writeFileAtomic(target, await renderThumbnail(reader));
}

// Adds an image's tissue patches to its feature set's search index (core/features/index), once its store
// is complete. Rows go in a fixed order (chunks row by row, patches row-major, tissue only), so after a
// crash the rows already in the index are a prefix of that order and are skipped on the rerun.
// The index is appended to on disk (DiskIndexWriter: one chunk resident, never the whole index), so
// extraction and `dinoscope index` build sets of any size; searching reads it as its store says.
import { DiskIndexWriter, type IndexAppender } from '../index/disk-append.js';
import type { FeatureStoreReader } from '../store/reader.js';

export async function openOrCreateIndex(dir: string, dim: number): Promise<DiskIndexWriter> {
  try {
    return await DiskIndexWriter.open(dir);
  } catch {
    return DiskIndexWriter.create(dir, dim);
  }
}

/** Appends what is missing of `imageId`'s tissue patches; returns the number of its rows in the index. */
export async function indexImage(
  index: IndexAppender,
  imageId: string,
  store: FeatureStoreReader,
  tissue: Uint8Array | null,
): Promise<number> {
  const { gridWidth, gridHeight, dim, chunk } = store.manifest;
  let present = (index.image(imageId)?.ranges ?? []).reduce((s, [, n]) => s + n, 0);
  let seen = 0;
  for (let y0 = 0; y0 < gridHeight; y0 += chunk.height) {
    const h = Math.min(chunk.height, gridHeight - y0);
    const positions: number[] = [];
    for (let y = y0; y < y0 + h; y++)
      for (let x = 0; x < gridWidth; x++) if (!tissue || tissue[y * gridWidth + x]) positions.push(y * gridWidth + x);
    const skip = Math.min(positions.length, Math.max(0, present - seen));
    seen += positions.length;
    if (skip === positions.length) continue;
    const rows = await store.readRect(0, y0, gridWidth, h); // (h, gridWidth, D)
    const keep = positions.slice(skip);
    const vectors = new Float32Array(keep.length * dim); // (n, D)
    keep.forEach((p, i) => {
      const src = ((Math.floor(p / gridWidth) - y0) * gridWidth + (p % gridWidth)) * dim;
      vectors.set(rows.subarray(src, src + dim), i * dim);
    });
    await index.append({ image: imageId, gridWidth, gridHeight, positions: Uint32Array.from(keep), vectors });
    present += keep.length;
  }
  return present;
}

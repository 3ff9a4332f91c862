// A test fixture: an exact index of one image's `rows` clustered vectors (12 clusters, a 100-column grid),
// in chunk files of 1024 rows, as the LanceDB build tests index.
import { clusteredVectors } from '../synthetic.js';
import { ExactIndex } from './exact.js';

export async function oneImageIndex(indexDir: string, dim: number, rows: number, seed: number, image = 'img-0'): Promise<ExactIndex> {
  const exact = await ExactIndex.create(indexDir, dim, 1024);
  await exact.append({
    image,
    gridWidth: 100,
    gridHeight: Math.ceil(rows / 100),
    positions: Uint32Array.from({ length: rows }, (_, p) => p),
    vectors: clusteredVectors(rows, dim, 12, 0.06, seed).vectors,
  });
  return exact;
}

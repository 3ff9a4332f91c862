// The on-disk index writer and the batched LanceDB build against the in-memory path, on real files: the
// same appends through DiskIndexWriter (small appends, reopened part-way as a resumed build does) and
// through ExactIndex give the same files byte for byte, and a LanceDB store streamed from them in small
// batches answers every query as the in-memory index does.
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../synthetic.js';
import { DiskIndexWriter } from './disk-append.js';
import { ExactIndex } from './exact.js';
import { buildLanceStore } from './lance-build.js';
import { LanceIndex } from './lance-index.js';
import { openSearchIndex } from './open.js';

const D = 40; // stride 48: padded rows
const CHUNK = 256;
// Images of 300, 1 and 640 patches (under the 1024 rows that get a vector index: LanceDB scans the table,
// so its candidates hold the true neighbours and the answers must equal the exact index's).
const IMAGES = [
  { id: 'a', w: 20, h: 15 },
  { id: 'b', w: 1, h: 1 },
  { id: 'c', w: 32, h: 20 },
];
const ROWS = IMAGES.reduce((s, im) => s + im.w * im.h, 0);
let dir: string;
let exact: ExactIndex;
let vectors: Float32Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-disk-append-'));
  vectors = clusteredVectors(ROWS, D, 12, 0.08, 21).vectors;
  exact = await ExactIndex.create(join(dir, 'memory'), D, CHUNK);
  let writer = await DiskIndexWriter.create(join(dir, 'disk'), D, CHUNK);
  let row = 0;
  for (const im of IMAGES) {
    const n = im.w * im.h;
    // In memory: the image in one append. On disk: pieces of 37 rows, the writer reopened after each image.
    await exact.append({
      image: im.id,
      gridWidth: im.w,
      gridHeight: im.h,
      positions: Uint32Array.from({ length: n }, (_, p) => p),
      vectors: vectors.subarray(row * D, (row + n) * D),
    });
    for (let p = 0; p < n; p += 37) {
      const m = Math.min(37, n - p);
      await writer.append({
        image: im.id,
        gridWidth: im.w,
        gridHeight: im.h,
        positions: Uint32Array.from({ length: m }, (_, i) => p + i),
        vectors: vectors.subarray((row + p) * D, (row + p + m) * D),
      });
    }
    row += n;
    writer = await DiskIndexWriter.open(join(dir, 'disk'));
    expect(writer.size).toBe(row);
    expect(writer.image(im.id)?.ranges).toEqual([[row - n, n]]);
  }
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the on-disk index writer', () => {
  it('writes the files ExactIndex writes, byte for byte', async () => {
    const names = (await readdir(join(dir, 'memory'))).sort();
    expect(names).toContain('chunk-000003.i8'); // 940 rows in chunks of 256
    expect((await readdir(join(dir, 'disk'))).sort()).toEqual(names);
    for (const n of names) expect(await readFile(join(dir, 'disk', n)), n).toEqual(await readFile(join(dir, 'memory', n)));
  });

  it('streamed into LanceDB in batches of 64 rows, answers as the in-memory index does', async () => {
    const lines: string[] = [];
    const rec = await buildLanceStore(join(dir, 'disk'), dir, { batchRows: 64, log: (l) => lines.push(l) });
    expect(rec).toMatchObject({ rows: ROWS, index: null });
    // 64-row batches that stop at each 256-row chunk: 4 a chunk, the last chunk's 172 rows in 3.
    expect(lines.filter((l) => / rows written\.$/.test(l))).toHaveLength(15);
    const lance = (await openSearchIndex(join(dir, 'disk'), dir)) as LanceIndex;
    try {
      expect(lance.store).toBe('lancedb');
      for (let r = 0; r < ROWS; r += 47) {
        const q = exact.vector(r);
        expect(await lance.searchAsync(q, 10)).toEqual(exact.search(q, 10));
        expect(await lance.searchOthersAsync(q, 10, 'a')).toEqual(await exact.searchOthersAsync(q, 10, 'a', null));
      }
      const q = exact.vector(5);
      for (const im of IMAGES) expect(await lance.heatmapAsync(im.id, q)).toEqual(exact.heatmap(im.id, q));
      for (const r of [0, 255, 256, ROWS - 1]) expect(lance.vector(r)).toEqual(exact.vector(r));
    } finally {
      lance.close();
    }
  }, 120_000);
});

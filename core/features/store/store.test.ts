import { FileSystemStore } from '@zarrita/storage';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as zarr from 'zarrita';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onSync } from '../../io/atomic.js';
import { openFeatureStore } from './reader.js';
import { createFeatureStore, resumeFeatureStore } from './writer.js';

/** A commit policy that never commits by itself: the tests say when. */
const NEVER_BY_ITSELF = { chunks: Infinity, ms: Infinity };
/** A 4 × 4-patch store of 2 channels in chunks of 4 × 4. */
const SMALL = {
  modelId: 'm',
  modelConfigHash: 'h',
  level: 1,
  mpp: null,
  stride: 28,
  origin: { x: 0, y: 0 },
  gridWidth: 4,
  gridHeight: 4,
  dim: 2,
  chunk: { height: 4, width: 4 },
};
const D = 8;
const GW = 37;
const GH = 21;
/** A feature value that identifies its cell and channel, exactly representable in float16. */
const value = (x: number, y: number, c: number): number => ((x * 7 + y * 3 + c) % 64) / 4 - 8;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('feature store', () => {
  it('writes chunks, resumes after an interruption, reads any rectangle, and zarrita reads it back', async () => {
    const path = join(dir, 'img.zarr');
    const mask = new Uint8Array(GW * GH).map((_, i) => (i % GW < 30 ? 1 : 0));
    const input = {
      modelId: 'vits14-reg4',
      modelConfigHash: 'abc123',
      level: 0,
      mpp: 0.5,
      stride: 14,
      origin: { x: 7, y: 0 },
      gridWidth: GW,
      gridHeight: GH,
      dim: D,
      chunk: { height: 8, width: 16 },
    };
    const w = await createFeatureStore(path, input, mask, NEVER_BY_ITSELF);
    expect([w.ny, w.nx]).toEqual([3, 3]);
    const fill = (cy: number, cx: number): Float32Array => {
      const r = w.chunkRect(cy, cx);
      const f = new Float32Array(r.width * r.height * D); // (h, w, D)
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++) for (let c = 0; c < D; c++) f[(y * r.width + x) * D + c] = value(r.x + x, r.y + y, c);
      return f;
    };
    // Four chunks and a commit, then two more, then a "crash": a new writer resumes from progress.json alone,
    // which holds the committed four; the two written after the commit are pending again.
    const [first, second] = [w.pending().slice(0, 4), w.pending().slice(4, 6)];
    for (const [cy, cx] of first) await w.writeChunk(cy, cx, fill(cy, cx));
    await w.commit();
    for (const [cy, cx] of second) await w.writeChunk(cy, cx, fill(cy, cx));
    expect(w.pending().length).toBe(3);
    const again = await resumeFeatureStore(path);
    expect(again.pending().length).toBe(5);
    expect(again.isDone(0, 0) && again.isDone(1, 0) && !again.isDone(1, 1)).toBe(true);
    for (const [cy, cx] of again.pending()) await again.writeChunk(cy, cx, fill(cy, cx));
    expect(again.complete).toBe(true);
    await again.commit();
    expect(JSON.parse(await readFile(join(path, 'progress.json'), 'utf8')).complete).toBe(true);

    const r = await openFeatureStore(path);
    expect(r.manifest).toMatchObject({ gridWidth: GW, gridHeight: GH, dim: D, stride: 14, dtype: 'float16' });
    const rect = await r.readRect(10, 5, 20, 12); // spans 2 × 3 chunks
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 20; x++) for (let c = 0; c < D; c++) expect(rect[(y * 20 + x) * D + c]).toBe(value(10 + x, 5 + y, c));
    const edge = await r.readRect(35, 19, 4, 4); // past the grid: zeros
    expect(edge[(1 * 4 + 1) * D + 3]).toBe(value(36, 20, 3));
    expect(edge[(3 * 4 + 3) * D + 3]).toBe(0);
    expect(Array.from((await r.mask()) ?? [])).toEqual(Array.from(mask));

    const store = new FileSystemStore(path);
    const group = await zarr.open.v3(zarr.root(store), { kind: 'group' });
    expect((group.attrs.ome as { version: string }).version).toBe('0.5');
    // zarrita 0.7 on Node 20 (no Float16Array) refuses float16 arrays; the metadata is checked as JSON.
    const meta = JSON.parse(await readFile(join(path, '0', 'zarr.json'), 'utf8'));
    expect(meta).toMatchObject({
      zarr_format: 3,
      node_type: 'array',
      shape: [D, GH, GW],
      data_type: 'float16',
      chunk_grid: { configuration: { chunk_shape: [D, 8, 16] } },
    });
    const m = await zarr.open.v3(zarr.root(store).resolve('mask'), { kind: 'array' });
    const mv = await zarr.get(m);
    expect(Array.from(mv.data as Uint8Array)).toEqual(Array.from(mask));
  });

  it('commits in groups: chunk files are fsynced, then their folders, and only then does progress.json record them', async () => {
    const path = join(dir, 'group.zarr');
    const w = await createFeatureStore(path, { ...SMALL, gridWidth: 16, gridHeight: 8 }, undefined, { chunks: 3, ms: Infinity });
    expect([w.ny, w.nx]).toEqual([2, 4]);
    const chunk = new Float32Array(4 * 4 * 2).fill(0.5);
    const seen: string[] = [];
    const off = onSync((kind, p) => seen.push(`${kind} ${relative(path, p) || '.'}`));
    try {
      for (const [cy, cx] of w.pending().slice(0, 7)) await w.writeChunk(cy, cx, chunk);
      await w.committed(); // the writer's own commits run in the background
    } finally {
      off();
    }
    // Seven chunks with a commit every three: two commits, each syncing its three chunk files (at once, so in any
    // order), then their folders (one per row of chunks), then progress.json and the store's folder. The seventh
    // chunk waits for the next commit. Before group commits every chunk synced itself, its folder, progress.json
    // and the store's folder in turn.
    const commit = (files: string[], folders: string[]): string[] => [
      ...files.map((f) => `file 0/c/0/${f}`).sort(),
      ...folders.map((f) => `folder 0/c/0/${f}`),
      'file progress.json',
      'folder .',
    ];
    const sortedFiles = (xs: string[]): string[] => [...xs.slice(0, 3).sort(), ...xs.slice(3, 6), ...xs.slice(6, 9).sort(), ...xs.slice(9)];
    expect(sortedFiles(seen)).toEqual([...commit(['0/0', '0/1', '0/2'], ['0']), ...commit(['0/3', '1/0', '1/1'], ['0', '1'])]);
    // The resumed writer sees the six committed chunks; progress.json does not know the seventh.
    expect((await resumeFeatureStore(path)).pending()).toEqual([
      [1, 2],
      [1, 3],
    ]);
    await w.commit();
    expect((await resumeFeatureStore(path)).pending()).toEqual([[1, 3]]);
  });

  it('a commit that fails in the background fails the next write, and commit() reports it', async () => {
    const path = join(dir, 'failing.zarr');
    const w = await createFeatureStore(path, { ...SMALL, gridWidth: 16 }, undefined, { chunks: 1, ms: Infinity });
    // A folder where progress.json goes: its atomic replace fails (EISDIR), as a full disk would fail it.
    await rm(join(path, 'progress.json'));
    await mkdir(join(path, 'progress.json'));
    const chunk = new Float32Array(4 * 4 * 2);
    await w.writeChunk(0, 0, chunk); // written; its commit starts in the background
    await w.committed().catch(() => undefined);
    await expect(w.writeChunk(0, 1, chunk)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(w.commit()).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('refuses a wrong-sized chunk and a directory without a store with one-line errors', async () => {
    const w = await createFeatureStore(join(dir, 'b.zarr'), SMALL);
    await expect(w.writeChunk(0, 0, new Float32Array(3))).rejects.toThrow(/needs 4 × 4 × 2 values, got 3/);
    await expect(openFeatureStore(join(dir, 'nothing'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

import { FileSystemStore } from '@zarrita/storage';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zarr from 'zarrita';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFeatureStore } from './reader.js';
import { createFeatureStore, resumeFeatureStore } from './writer.js';

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
    const w = await createFeatureStore(path, input, mask);
    expect([w.ny, w.nx]).toEqual([3, 3]);
    const fill = (cy: number, cx: number): Float32Array => {
      const r = w.chunkRect(cy, cx);
      const f = new Float32Array(r.width * r.height * D); // (h, w, D)
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++) for (let c = 0; c < D; c++) f[(y * r.width + x) * D + c] = value(r.x + x, r.y + y, c);
      return f;
    };
    // "Crash" after four chunks: a new writer resumes from progress.json alone.
    for (const [cy, cx] of w.pending().slice(0, 4)) await w.writeChunk(cy, cx, fill(cy, cx));
    const again = await resumeFeatureStore(path);
    expect(again.pending().length).toBe(5);
    expect(again.isDone(0, 0) && again.isDone(1, 0) && !again.isDone(1, 1)).toBe(true);
    for (const [cy, cx] of again.pending()) await again.writeChunk(cy, cx, fill(cy, cx));
    expect(again.complete).toBe(true);
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

  it('refuses a wrong-sized chunk and a directory without a store with one-line errors', async () => {
    const w = await createFeatureStore(join(dir, 'b.zarr'), {
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
    });
    await expect(w.writeChunk(0, 0, new Float32Array(3))).rejects.toThrow(/needs 4 × 4 × 2 values, got 3/);
    await expect(openFeatureStore(join(dir, 'nothing'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

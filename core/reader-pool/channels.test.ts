// Multi-channel images through the reader pool's threads: readChannels and the composite readRegion equal
// a reader on this thread, for an OME-TIFF and an OME-Zarr folder; an RGB image offers no readChannels.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChannelFixtures, type WrittenChannelFixtures } from '../data/fixtures/write-channel-fixtures.js';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';
import { openImage } from '../data/readers/registry.js';
import { ReaderPool } from './pool.js';

let dir: string;
let fx: WrittenChannelFixtures;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-pool-channels-'));
  fx = await writeChannelFixtures(dir, { width: 400, height: 300, levels: 2 });
  await writePyramidalTiff(join(dir, 'rgb.tif'), { width: 600, height: 400, compression: 'jpeg' });
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('reader pool: multi-channel images', () => {
  it('readChannels and readRegion equal a reader on this thread', async () => {
    const pool = new ReaderPool({ size: 1 });
    try {
      for (const path of [fx.omeTiff, fx.zarrV3]) {
        const local = await openImage(path);
        const remote = await pool.openImage(path);
        expect(remote.meta).toEqual(local.meta);
        const [a, b] = await Promise.all([remote.readChannels!(0, 50, 40, 300, 200), local.readChannels!(0, 50, 40, 300, 200)]);
        expect([a.width, a.height, a.channels]).toEqual([300, 200, 5]);
        expect(a.data).toEqual(b.data);
        const [ra, rb] = await Promise.all([remote.readRegion(1, 0, 0, 200, 150), local.readRegion(1, 0, 0, 200, 150)]);
        expect(Buffer.from(ra.data).equals(Buffer.from(rb.data))).toBe(true);
        await local.close();
        await remote.close();
      }
      const rgb = await pool.openImage(join(dir, 'rgb.tif'));
      expect(rgb.readChannels).toBeUndefined();
      await rgb.close();
    } finally {
      await pool.close();
    }
  }, 60_000);
});

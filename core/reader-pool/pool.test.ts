// The reader pool on real files in real worker threads: reads through it equal reads on this thread,
// errors keep their code and message, a read over its time budget is refused with a plain message while
// other reads and this thread's event loop carry on, and its thread is replaced.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';
import { openImage } from '../data/readers/registry.js';
import { ReaderPool } from './pool.js';
import { writeSlowTiff } from './slow-fixture.js';

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-readerpool-'));
  await writePyramidalTiff(file('slide.tif'), { width: 1500, height: 1100, compression: 'jpeg' });
  await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 10, g: 200, b: 90 } } })
    .png()
    .toFile(file('small.png'));
  await writeFile(file('notes.txt'), 'not an image');
  await writeSlowTiff(file('slow.tif'), 8192); // two 4096 × 4096 LZW tiles: seconds to read whole, never under 1 s
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Largest gap between ticks of a 10 ms timer on this thread while `work` runs: how long the event loop was held. */
async function loopStall<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  const [result] = await Promise.allSettled([work]);
  clearInterval(tick);
  return { result, stallMs: Math.max(stallMs, performance.now() - last) };
}

describe('reader pool', () => {
  it('reads what a reader on this thread reads: metadata, regions and stored JPEG tiles', async () => {
    const pool = new ReaderPool({ size: 2 });
    try {
      for (const name of ['slide.tif', 'small.png']) {
        const local = await openImage(file(name));
        const remote = await pool.openImage(file(name));
        expect(remote.meta).toEqual(local.meta);
        expect(remote.path).toBe(file(name));
        for (const [level, x, y, w, h] of [
          [0, 0, 0, 200, 150],
          [0, 250, 90, 77, 300],
          [local.meta.levels.length - 1, -10, -10, 64, 64],
        ]) {
          const [a, b] = await Promise.all([remote.readRegion(level, x, y, w, h), local.readRegion(level, x, y, w, h)]);
          expect([a.width, a.height]).toEqual([b.width, b.height]);
          expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
        }
        const lj = local as { jpegTile?: (l: number, x: number, y: number) => Promise<{ bytes: Uint8Array } | null> };
        const rj = remote as typeof lj;
        expect(typeof rj.jpegTile).toBe(typeof lj.jpegTile);
        if (lj.jpegTile && rj.jpegTile)
          expect(Buffer.from((await rj.jpegTile(0, 1, 1))!.bytes).equals(Buffer.from((await lj.jpegTile(0, 1, 1))!.bytes))).toBe(true);
        await local.close();
        await remote.close();
      }
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('passes the reader errors through with their code and message', async () => {
    const pool = new ReaderPool({ size: 1 });
    try {
      const fails = async (path: string): Promise<DinoscopeError> =>
        (await pool.openImage(path).then(
          () => null,
          (e: unknown) => e,
        )) as DinoscopeError;
      const txt = await fails(file('notes.txt'));
      expect(txt).toBeInstanceOf(DinoscopeError);
      expect([txt.code, txt.message]).toEqual(['UNSUPPORTED', expect.stringContaining(file('notes.txt'))]);
      expect((await fails(file('absent.tif'))).code).toBe('NOT_FOUND');
      const reader = await pool.openImage(file('small.png'));
      await reader.close();
      await expect(reader.readRegion(0, 0, 0, 8, 8)).rejects.toThrow(/used after it was closed/);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('opens the file as it is at each openImage, while readers of its earlier version stay usable', async () => {
    const pool = new ReaderPool({ size: 1 });
    try {
      const path = file('changing.png');
      await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 255, g: 0, b: 0 } } })
        .png()
        .toFile(path);
      const before = await pool.openImage(path);
      await sharp({ create: { width: 400, height: 100, channels: 3, background: { r: 0, g: 0, b: 255 } } })
        .png()
        .toFile(path);
      const after = await pool.openImage(path);
      expect([before.meta.width, after.meta.width]).toEqual([300, 400]);
      expect(Array.from((await after.readRegion(0, 0, 0, 1, 1)).data)).toEqual([0, 0, 255]);
      expect(Array.from((await before.readRegion(0, 0, 0, 1, 1)).data)).toEqual([255, 0, 0]);
      await Promise.all([before.close(), after.close()]);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('refuses a read over its budget with a plain error, replaces its thread, and never holds up the event loop', async () => {
    const pool = new ReaderPool({ size: 2, budgetMs: 1000 });
    try {
      // Start both threads and see how long the slow file really takes without a budget.
      const warm = await Promise.all([pool.openImage(file('small.png')), pool.openImage(file('slow.tif'))]);
      const before = pool.threadIds();
      expect(before).toHaveLength(2);

      const small = warm[0];
      const slow = warm[1];
      let smallDoneAt = 0;
      const slowRead = slow.readRegion(0, 0, 0, slow.meta.width, slow.meta.height);
      const smallReads = (async () => {
        for (let i = 0; i < 5; i++) await small.readRegion(0, 0, 0, 300, 200);
        smallDoneAt = performance.now();
      })();
      const started = performance.now();
      const { result, stallMs } = await loopStall(slowRead);
      const refusedAt = performance.now();
      await smallReads;

      expect(result.status).toBe('rejected');
      const err = (result as PromiseRejectedResult).reason as DinoscopeError;
      expect(err).toBeInstanceOf(DinoscopeError);
      expect(err.code).toBe('TOO_LARGE');
      expect(err.message).toBe(
        `${file('slow.tif')}: reading it took longer than 1.0 s, so it was stopped: the file is damaged or too large to read in one piece. Other images are not affected.`,
      );
      expect(refusedAt - started).toBeGreaterThanOrEqual(990);
      expect(stallMs).toBeLessThan(500); // generous for a loaded machine; reading here would stall it for the whole decode (seconds)
      expect(smallDoneAt).toBeGreaterThan(0); // the other thread's reads were answered (when is up to the machine's load)

      // The thread that read the slow file is gone; a new one serves the next reads.
      const after = pool.threadIds();
      expect(after.filter((id) => before.includes(id))).toHaveLength(1);
      const again = await Promise.all([0, 1, 2].map((i) => small.readRegion(0, i, 0, 10, 10)));
      expect(again.map((r) => [r.width, r.height])).toEqual([
        [10, 10],
        [10, 10],
        [10, 10],
      ]);
      expect(pool.threadIds()).toHaveLength(2);
      await Promise.all(warm.map((r) => r.close()));
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('cancels reads still running when it closes', async () => {
    const pool = new ReaderPool({ size: 1 });
    const slow = await pool.openImage(file('slow.tif'));
    const read = slow.readRegion(0, 0, 0, slow.meta.width, slow.meta.height).then(
      () => null,
      (e: unknown) => e,
    );
    await pool.close();
    expect(await read).toMatchObject({ code: 'CANCELLED' });
    await expect(pool.openImage(file('small.png'))).rejects.toMatchObject({ code: 'CANCELLED' });
  }, 60_000);
});

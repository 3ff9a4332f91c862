import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { diffRgb } from '../fixtures/compare.js';
import { patternRgb } from '../fixtures/pattern.js';
import { copyRect, whiteImage } from '../rgb.js';
import { openImage } from './registry.js';

let dir: string;
const W = 700;
const H = 500;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-sharp-'));
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  const px = patternRgb(0, 0, W, H);
  await sharp(px, raw).png().toFile(join(dir, 'a.png'));
  await sharp(px, raw).webp({ lossless: true }).toFile(join(dir, 'a.webp'));
  await sharp(px, raw).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toFile(join(dir, 'a.jpg'));
  await sharp(px, raw).greyscale().png().toFile(join(dir, 'grey.png'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectCode(p: Promise<unknown>, code: string): Promise<DinoscopeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DinoscopeError);
  expect((err as DinoscopeError).code).toBe(code);
  return err as DinoscopeError;
}

describe('PNG, JPEG, WebP readers', () => {
  it('reads PNG and lossless WebP regions pixel for pixel, white outside', async () => {
    for (const [name, format] of [
      ['a.png', 'png'],
      ['a.webp', 'webp'],
    ]) {
      const r = await openImage(join(dir, name));
      expect(r.meta.format).toBe(format);
      expect([r.meta.width, r.meta.height, r.meta.mpp]).toEqual([W, H, null]);
      expect(r.meta.levels.map((l) => l.width)).toEqual([700, 350, 175]);
      const reg = await r.readRegion(0, 600, 400, 150, 120);
      const want = whiteImage(150, 120);
      copyRect({ data: patternRgb(600, 400, 100, 100), width: 100, height: 100 }, 0, 0, want, 0, 0, 100, 100);
      expect(diffRgb(reg.data, want.data, 150).first).toBeNull();
      const low = await r.readRegion(2, 0, 0, 175, 125);
      expect(low.width * low.height * 3).toBe(low.data.length);
      await r.close();
    }
  });

  it('reads JPEG within a stated tolerance (mean |error| ≤ 2 at quality 95, 4:4:4)', async () => {
    const r = await openImage(join(dir, 'a.jpg'));
    expect(r.meta.format).toBe('jpeg');
    const reg = await r.readRegion(0, 100, 50, 256, 256);
    const ref = patternRgb(100, 50, 256, 256);
    expect(diffRgb(reg.data, ref, 256).meanAbs).toBeLessThan(2);
  });

  it('expands greyscale to RGB', async () => {
    const r = await openImage(join(dir, 'grey.png'));
    const reg = await r.readRegion(0, 0, 0, 4, 1);
    expect(reg.data[0]).toBe(reg.data[1]);
    expect(reg.data[1]).toBe(reg.data[2]);
  });

  it('reports missing, unknown, empty and truncated files', async () => {
    await expectCode(openImage(join(dir, 'nope.png')), 'NOT_FOUND');
    writeFileSync(join(dir, 'x.txt'), 'hello, not an image');
    expect((await expectCode(openImage(join(dir, 'x.txt')), 'UNSUPPORTED')).message).toContain('x.txt');
    writeFileSync(join(dir, 'empty.png'), '');
    await expectCode(openImage(join(dir, 'empty.png')), 'CORRUPT');
    const png = readFileSync(join(dir, 'a.png'));
    writeFileSync(join(dir, 'trunc.png'), png.subarray(0, png.length >> 1));
    expect((await expectCode(openImage(join(dir, 'trunc.png')), 'CORRUPT')).message).toContain('trunc.png');
    const jpg = readFileSync(join(dir, 'a.jpg'));
    writeFileSync(join(dir, 'trunc.jpg'), jpg.subarray(0, jpg.length >> 1));
    await expectCode(openImage(join(dir, 'trunc.jpg')), 'CORRUPT');
  });

  it('refuses a PNG header declaring 10^6 × 10^6 pixels without allocating', async () => {
    // A valid 1×1 PNG whose IHDR is rewritten to 1,000,000 × 1,000,000 (CRC fixed up).
    const png = Buffer.from(
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    );
    png.writeUInt32BE(1_000_000, 16);
    png.writeUInt32BE(1_000_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    writeFileSync(join(dir, 'huge.png'), png);
    const before = process.memoryUsage().rss;
    await expectCode(openImage(join(dir, 'huge.png')), 'TOO_LARGE');
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  });
});

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

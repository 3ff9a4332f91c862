// Multi-channel OME-TIFF (fixtures/ome-channels-tiff.ts): every channel's samples at every level equal
// what was written, for 8/16-bit and float planes, deflate (with and without differencing) and raw tiles,
// both DimensionOrders; channel names, colours and wavelengths; the default composite of readRegion; and
// files that lie about their planes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSampleType } from '../../common/api.js';
import { channelFixture, type ChannelFixture, FIXTURE_CHANNELS } from '../fixtures/channels.js';
import { expectSamples } from '../fixtures/channels-compare.js';
import { omeChannelsXml, writeOmeChannelsTiff } from '../fixtures/ome-channels-tiff.js';
import { openImage } from './registry.js';

let dir: string;
const fixtures = new Map<ChannelSampleType, ChannelFixture>();
const fixture = (t: ChannelSampleType): ChannelFixture => {
  if (!fixtures.has(t)) fixtures.set(t, channelFixture({ width: 300, height: 200, sampleType: t }));
  return fixtures.get(t) as ChannelFixture;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-ome-channels-'));
  writeOmeChannelsTiff(join(dir, 'u16.ome.tif'), fixture('uint16'));
  writeOmeChannelsTiff(join(dir, 'u16-pred.ome.tif'), fixture('uint16'), { predictor: true, tile: 64, bigtiff: true });
  writeOmeChannelsTiff(join(dir, 'u8-raw.ome.tif'), fixture('uint8'), { compression: 'none' });
  writeOmeChannelsTiff(join(dir, 'f32-zct.ome.tif'), fixture('float32'), { order: 'XYZCT', sizeZ: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('multi-channel OME-TIFF', () => {
  it.each([
    ['u16.ome.tif', 'uint16'],
    ['u16-pred.ome.tif', 'uint16'],
    ['u8-raw.ome.tif', 'uint8'],
    ['f32-zct.ome.tif', 'float32'],
  ] as const)('%s: every channel at every level is what was written', async (name, type) => {
    const f = fixture(type);
    const r = await openImage(join(dir, name));
    try {
      expect(r.meta.format).toBe('ome-tiff');
      expect(r.meta.levels.map((l) => [l.width, l.height])).toEqual([
        [300, 200],
        [150, 100],
        [75, 50],
      ]);
      expect(r.meta.mpp).toBeCloseTo(0.65, 9);
      expect(r.readChannels).toBeDefined();
      for (let k = 0; k < 3; k++) {
        const { width, height } = r.meta.levels[k];
        expectSamples(await r.readChannels!(k, 0, 0, width, height), f, k, 0, 0);
      }
      // A region across tiles, and one past the image's edge (0 there).
      expectSamples(await r.readChannels!(0, 100, 50, 180, 140), f, 0, 100, 50);
      const edge = await r.readChannels!(0, 280, 190, 40, 20);
      expect(edge.data[0 * 800 + 5 * 40 + 30]).toBe(0); // x 310 is past the 300-px width
      expect(edge.data[2 * 800 + 0]).toBe(f.levels[0].data[2 * 60000 + 190 * 300 + 280]);
    } finally {
      await r.close();
    }
  });

  it('states each channel name, colour, wavelength, sample type and range', async () => {
    const r = await openImage(join(dir, 'u16.ome.tif'));
    expect(r.meta.channels).toEqual(
      FIXTURE_CHANNELS.map((c) => ({ name: c.name, color: c.color, emissionNm: c.emissionNm, sampleType: 'uint16', range: [0, 65535] })),
    );
    await r.close();
    const f = await openImage(join(dir, 'f32-zct.ome.tif'));
    const [lo, hi] = f.meta.channels![0].range;
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeGreaterThan(0.2); // the nuclei's 20000 / 65535, seen at the smallest level
    expect(hi).toBeLessThan(0.5);
    await f.close();
  });

  it('readRegion draws the default composite: the unique square in AF647 magenta only, dark background', async () => {
    const f = fixture('uint16');
    const r = await openImage(join(dir, 'u16.ome.tif'));
    const rgb = await r.readRegion(0, 0, 0, 300, 200);
    const n = 300 * 200;
    const at = (i: number): number[] => Array.from(rgb.data.subarray(i * 3, i * 3 + 3));
    const unique = f.masks.unique.findIndex((v, i) => v === 1 && f.masks.unique[i + 301] === 1);
    const [r0, g0, b0] = at(unique + 301);
    expect([r0, b0]).toEqual([255, 255]);
    expect(g0).toBeLessThan(20); // the other channels' background noise only
    const background = Array.from({ length: n }, (_, i) => i).find((i) => Object.values(f.masks).every((m) => m[i] === 0)) as number;
    const bg = at(background);
    expect(Math.max(...bg)).toBeLessThan(40);
    await r.close();
  });

  it('refuses a file whose OME-XML states more channels than it holds, in plain words', async () => {
    const f = fixture('uint16');
    const path = join(dir, 'short.ome.tif');
    writeOmeChannelsTiff(path, f, { xml: omeChannelsXml(f).replace('SizeC="5"', 'SizeC="9"') });
    await expect(openImage(path)).rejects.toThrow(/states 9 channels .* holds only 5 image planes/);
  });
});

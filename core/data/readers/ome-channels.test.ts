// Multi-channel OME-TIFF (fixtures/ome-channels-tiff.ts): every channel's samples at every level equal
// what was written, for 8/16-bit and float planes, deflate (with and without differencing) and raw tiles,
// both DimensionOrders; a file written by tifffile (when python3 has it); channel names, colours and
// wavelengths; the default composite of readRegion; and files that lie about their planes or hold what
// Dinoscope does not read.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSampleType } from '../../common/api.js';
import { channelFixture, type ChannelFixture, FIXTURE_CHANNELS } from '../fixtures/channels.js';
import { expectSamples } from '../fixtures/channels-compare.js';
import { omeChannelsXml, writeOmeChannelsTiff } from '../fixtures/ome-channels-tiff.js';
import { writeTiff, imageTags } from '../fixtures/tiff-writer.js';
import { Compression, Photometric, Tag } from '../tiff/tags.js';
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

  const python = spawnSync('/usr/bin/python3', ['-c', 'import tifffile'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!python)('reads an OME-TIFF written by tifffile: samples at every level, names, pixel size', async () => {
    const script = fileURLToPath(new URL('../fixtures/python/tifffile_channels.py', import.meta.url));
    const path = join(dir, 'tifffile.ome.tif');
    const raw = join(dir, 'tifffile.raw');
    const r0 = spawnSync('/usr/bin/python3', [script, path, raw], { encoding: 'utf8' });
    expect(r0.status, r0.stderr).toBe(0);
    const bytes = readFileSync(raw);
    const a = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2); // (5, 200, 300)
    const r = await openImage(path);
    try {
      expect(r.meta.channels!.map((c) => c.name)).toEqual(['A', 'B', 'C', 'D', 'E']);
      expect(r.meta.mpp).toBeCloseTo(0.5, 9);
      for (const [k, step] of [
        [0, 1],
        [1, 2],
        [2, 4],
      ]) {
        const { width, height } = r.meta.levels[k];
        const got = await r.readChannels!(k, 0, 0, width, height);
        let bad = -1;
        for (let c = 0; c < 5 && bad < 0; c++)
          for (let y = 0; y < height && bad < 0; y++)
            for (let x = 0; x < width; x++)
              if (got.data[(c * height + y) * width + x] !== a[(c * 200 + y * step) * 300 + x * step]) {
                bad = (c * height + y) * width + x;
                break;
              }
        expect(bad, `level ${k}`).toBe(-1);
      }
    } finally {
      await r.close();
    }
  });

  it('refuses too many channels, channel planes in strips and other sample types in plain words', async () => {
    const f = fixture('uint16');
    const many = join(dir, 'many.ome.tif');
    writeOmeChannelsTiff(many, f, { xml: omeChannelsXml(f).replace('SizeC="5"', 'SizeC="1000"') });
    await expect(openImage(many)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/1000 channels, more than the 64/),
    });
    const plane = (bits: number, format: number, tiled: boolean) => ({
      tags: [
        ...imageTags({
          width: 64,
          height: 64,
          samples: 1,
          bits,
          compression: Compression.None,
          photometric: Photometric.MinIsBlack,
          description: omeChannelsXml(f).replace(/SizeX="\d+" SizeY="\d+"/, 'SizeX="64" SizeY="64"'),
          ...(tiled ? { tile: 64 } : {}),
        }),
        { tag: Tag.SampleFormat, type: 3 as const, values: [format] },
      ],
      blocks: [new Uint8Array((64 * 64 * bits) / 8)],
      layout: tiled ? ('tiles' as const) : ('strips' as const),
    });
    const strips = join(dir, 'strips.ome.tif');
    writeTiff(
      strips,
      [0, 1, 2, 3, 4].map(() => plane(16, 1, false)),
    );
    await expect(openImage(strips)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/channel planes in strips/),
    });
    const signed = join(dir, 'signed.ome.tif');
    writeTiff(
      signed,
      [0, 1, 2, 3, 4].map(() => plane(16, 2, true)),
    );
    await expect(openImage(signed)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/16-bit signed integer samples/),
    });
  });
});

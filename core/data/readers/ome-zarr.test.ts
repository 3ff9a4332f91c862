// OME-Zarr folders (fixtures/ome-zarr.ts, Zarr v2 + NGFF 0.4 and Zarr v3 + NGFF 0.5): every channel's
// samples at every level equal what was written through each codec (raw, zlib, gzip, zstd, blosc), with
// t/c/z/y/x, c/z/y/x and c/y/x axes and several channels per chunk; omero metadata into ChannelInfo; and
// damaged folders refused in plain words.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelFixture, type ChannelFixture, FIXTURE_CHANNELS } from '../fixtures/channels.js';
import { type OmeZarrOptions, writeOmeZarr } from '../fixtures/ome-zarr.js';
import { expectSamples } from '../fixtures/channels-compare.js';
import { openImage } from './registry.js';

let dir: string;
let f16: ChannelFixture;
const cases: [string, OmeZarrOptions][] = [
  ['v2-blosc-zlib-raw.zarr', { version: 2, codecs: ['blosc', 'zlib', 'raw'] }],
  ['v2-zstd-gzip-czyx.zarr', { version: 2, codecs: ['zstd', 'gzip', 'zstd'], axes: 'czyx', channelsPerChunk: 2 }],
  ['v3-zstd-gzip-raw.zarr', { version: 3, codecs: ['zstd', 'gzip', 'raw'] }],
  ['v3-blosc-zlib-cyx.zarr', { version: 3, codecs: ['blosc', 'zlib', 'blosc'], axes: 'cyx', channelsPerChunk: 5, chunk: 64 }],
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-ome-zarr-'));
  f16 = channelFixture({ width: 300, height: 200 });
  for (const [name, o] of cases) await writeOmeZarr(join(dir, name), f16, o);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under a folder, recursively. */
function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
}

describe('OME-Zarr', () => {
  it.each(cases)('%s: every channel at every level is what was written', async (name, o) => {
    const r = await openImage(join(dir, name));
    try {
      expect(r.meta.format).toBe('ome-zarr');
      expect(r.meta.vendor['zarr.format']).toBe(String(o.version));
      expect(r.meta.levels.map((l) => [l.width, l.height])).toEqual([
        [300, 200],
        [150, 100],
        [75, 50],
      ]);
      expect(r.meta.mpp).toBeCloseTo(0.65, 9);
      for (let k = 0; k < 3; k++) {
        const { width, height } = r.meta.levels[k];
        expectSamples(await r.readChannels!(k, 0, 0, width, height), f16, k, 0, 0);
      }
      expectSamples(await r.readChannels!(0, 70, 30, 200, 150), f16, 0, 70, 30);
    } finally {
      await r.close();
    }
  });

  it('omero labels, colours, windows and active flags become ChannelInfo', async () => {
    const r = await openImage(join(dir, 'v3-zstd-gzip-raw.zarr'));
    expect(r.meta.channels).toEqual(
      FIXTURE_CHANNELS.map((c) => ({
        name: c.name,
        color: c.color,
        emissionNm: null,
        sampleType: 'uint16',
        range: [0, 65535],
        window: [0, 65535 / 2],
        active: true,
      })),
    );
    await r.close();
  });

  it('uint8 and float32 arrays; names fall back to "Channel N" without omero', async () => {
    for (const type of ['uint8', 'float32'] as const) {
      const f = channelFixture({ width: 130, height: 90, sampleType: type, levels: 2 });
      const path = join(dir, `${type}.zarr`);
      await writeOmeZarr(path, f, { version: 3, codecs: ['zstd', 'raw'], omero: false });
      const r = await openImage(path);
      expect(r.meta.channels!.map((c) => [c.name, c.sampleType, c.color])).toEqual(
        FIXTURE_CHANNELS.map((_, i) => [`Channel ${i + 1}`, type, null]),
      );
      expectSamples(await r.readChannels!(0, 0, 0, 130, 90), f, 0, 0, 0);
      expectSamples(await r.readChannels!(1, 0, 0, 65, 45), f, 1, 0, 0);
      await r.close();
    }
  });

  it('a missing chunk reads as the fill value (0)', async () => {
    const path = join(dir, 'sparse.zarr');
    await writeOmeZarr(path, f16, { version: 2, codecs: ['raw', 'raw', 'raw'] });
    rmSync(join(path, '0', '0', '1', '0', '0', '0'));
    const r = await openImage(path);
    const got = await r.readChannels!(0, 0, 0, 128, 128);
    expect(got.data.subarray(128 * 128, 2 * 128 * 128).every((v) => v === 0)).toBe(true); // channel 1 gone
    expect(got.data.subarray(0, 128 * 128).some((v) => v > 0)).toBe(true);
    await r.close();
  });

  describe('damaged folders', () => {
    const damaged = async (name: string, o: OmeZarrOptions, harm: (path: string) => void): Promise<string> => {
      const path = join(dir, name);
      await writeOmeZarr(path, channelFixture({ width: 160, height: 160, levels: 2 }), o);
      harm(path);
      return path;
    };

    it.each([
      ['v2', { version: 2, codecs: ['zstd', 'raw'] }],
      ['v3', { version: 3, codecs: ['blosc', 'raw'] }],
      ['v3raw', { version: 3, codecs: ['raw', 'raw'] }],
    ] as [string, OmeZarrOptions][])('%s: a truncated chunk is CORRUPT, naming the chunk', async (name, o) => {
      const path = await damaged(`trunc-${name}.zarr`, o, (p) => {
        const chunk = files(join(p, '0')).find((f) => !f.endsWith('.zarray') && !f.endsWith('zarr.json')) as string;
        truncateSync(chunk, Math.floor(statSync(chunk).size / 3));
      });
      const r = await openImage(path);
      await expect(r.readChannels!(0, 0, 0, 160, 160)).rejects.toMatchObject({
        code: 'CORRUPT',
        message: expect.stringMatching(/chunk .*(of level 0 cannot be decoded|truncated)/),
      });
      await r.close();
    });

    it('an absurd shape is refused at open, before any chunk is read', async () => {
      const path = await damaged('huge.zarr', { version: 2 }, (p) => {
        const meta = JSON.parse(readFileSync(join(p, '0', '.zarray'), 'utf8'));
        meta.shape = [1, 5, 1, 4_000_000, 4_000_000];
        writeFileSync(join(p, '0', '.zarray'), JSON.stringify(meta));
      });
      await expect(openImage(path)).rejects.toMatchObject({
        code: 'TOO_LARGE',
        message: expect.stringMatching(/4000000 × 4000000 pixels/),
      });
    });

    it('absurd chunks are refused at open', async () => {
      const path = await damaged('chunks.zarr', { version: 3 }, (p) => {
        const meta = JSON.parse(readFileSync(join(p, '0', 'zarr.json'), 'utf8'));
        meta.chunk_grid.configuration.chunk_shape = [1, 1, 1, 100000, 100000];
        writeFileSync(join(p, '0', 'zarr.json'), JSON.stringify(meta));
      });
      await expect(openImage(path)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    });

    it('a blosc chunk claiming more bytes than its chunk holds is refused before decoding', async () => {
      const path = await damaged('bomb.zarr', { version: 2, codecs: ['blosc', 'raw'] }, (p) => {
        const chunk = join(p, '0', '0', '0', '0', '0', '0');
        const bytes = readFileSync(chunk);
        bytes.writeUInt32LE(2 ** 31, 4);
        writeFileSync(chunk, bytes);
      });
      const r = await openImage(path);
      await expect(r.readChannels!(0, 0, 0, 10, 10)).rejects.toThrow(/decodes to 2147483648 bytes, more than the 32768/);
      await r.close();
    });

    it('missing multiscales or level metadata, bad axes and unsupported samples are named', async () => {
      const noMs = await damaged('no-ms.zarr', { version: 2 }, (p) => writeFileSync(join(p, '.zattrs'), JSON.stringify({ omero: {} })));
      await expect(openImage(noMs)).rejects.toThrow(/no "multiscales"/);
      const noLevel = await damaged('no-level.zarr', { version: 3 }, (p) => rmSync(join(p, '1', 'zarr.json')));
      await expect(openImage(noLevel)).rejects.toThrow(/level 1 \("1"\) has no array metadata/);
      const axes = await damaged('axes.zarr', { version: 2 }, (p) => {
        const a = JSON.parse(readFileSync(join(p, '.zattrs'), 'utf8'));
        a.multiscales[0].axes[4].name = 'q';
        writeFileSync(join(p, '.zattrs'), JSON.stringify(a));
      });
      await expect(openImage(axes)).rejects.toThrow(/last two axes are y and x/);
      const int32 = await damaged('int32.zarr', { version: 2 }, (p) => {
        for (const k of ['0', '1']) {
          const meta = JSON.parse(readFileSync(join(p, k, '.zarray'), 'utf8'));
          meta.dtype = '<i4';
          writeFileSync(join(p, k, '.zarray'), JSON.stringify(meta));
        }
      });
      await expect(openImage(int32)).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/int32.*reads uint8, uint16 and float32/),
      });
      const notJson = await damaged('json.zarr', { version: 3 }, (p) => writeFileSync(join(p, 'zarr.json'), '{"zarr_format": 3,'));
      await expect(openImage(notJson)).rejects.toThrow(/not valid JSON/);
    });
  });
});

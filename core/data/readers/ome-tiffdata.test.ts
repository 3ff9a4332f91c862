// OME-TIFF TiffData plane mappings (readers/ome-channels.ts): planes stored out of DimensionOrder's order,
// mapped by one TiffData per IFD (IFD, FirstC, FirstZ, PlaneCount 1) or by runs (PlaneCount > 1 from a
// FirstZ), are read from the IFDs the TiffData names: every channel at every level sample for sample what
// was written (the Z = 1 planes hold a constant, so reading by DimensionOrder shows it). TiffData that
// maps no plane to a channel, a TiffData number that is not one, and planes kept in other files are
// refused in plain words.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelFixture, type ChannelFixture } from '../fixtures/channels.js';
import { expectSamples } from '../fixtures/channels-compare.js';
import { writeOmeChannelsTiff } from '../fixtures/ome-channels-tiff.js';
import { openImage } from './registry.js';

let dir: string;
let f: ChannelFixture;
const C = 5;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-ome-tiffdata-'));
  f = channelFixture({ width: 300, height: 200, sampleType: 'uint16' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectRead(path: string): Promise<void> {
  const r = await openImage(path);
  try {
    expect(r.meta.channels!.map((c) => c.name)).toEqual(f.channels.map((c) => c.name));
    for (let k = 0; k < r.meta.levels.length; k++) {
      const { width, height } = r.meta.levels[k];
      expectSamples(await r.readChannels!(k, 0, 0, width, height), f, k, 0, 0);
    }
    expect(r.meta.levels).toHaveLength(f.levels.length);
  } finally {
    await r.close();
  }
}

describe('OME-TIFF TiffData plane mappings', () => {
  it.each(['XYCZT', 'XYZCT'] as const)('%s: planes in reverse order, one TiffData per IFD', async (order) => {
    const path = join(dir, `reverse-${order}.ome.tif`);
    const ifdPlanes = Array.from({ length: 2 * C }, (_, i) => 2 * C - 1 - i);
    writeOmeChannelsTiff(path, f, { order, sizeZ: 2, ifdPlanes });
    await expectRead(path);
  });

  it('Z = 1 planes first, mapped by two runs (FirstZ, PlaneCount)', async () => {
    const path = join(dir, 'runs.ome.tif');
    // XYCZT: plane c + C z. IFDs 0…4 hold Z = 1, IFDs 5…9 hold Z = 0.
    const ifdPlanes = [...Array.from({ length: C }, (_, c) => C + c), ...Array.from({ length: C }, (_, c) => c)];
    const tiffData = `<TiffData IFD="0" FirstZ="1" PlaneCount="${C}"/><TiffData IFD="${C}" FirstC="0" FirstZ="0" PlaneCount="${C}"/>`;
    writeOmeChannelsTiff(path, f, { sizeZ: 2, ifdPlanes, tiffData });
    await expectRead(path);
  });

  it('refuses TiffData that maps no plane to a channel, a bad number, and planes in other files', async () => {
    const cases: [string, string, RegExp][] = [
      ['gap', '<TiffData IFD="0" PlaneCount="2"/>', /TiffData elements map no image plane to channel 3 \(Z 0, T 0\)/],
      ['bad', '<TiffData IFD="zero" PlaneCount="5"/>', /a TiffData IFD of "zero", not a plane or IFD number/],
      ['far', '<TiffData IFD="4000000000" PlaneCount="5"/>', /in IFDs its TiffData names but the file holds only 5 image planes/],
      [
        'files',
        '<TiffData IFD="0" PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:1</UUID></TiffData>' +
          '<TiffData IFD="0" FirstC="1" PlaneCount="1"><UUID FileName="b.ome.tif">urn:uuid:2</UUID></TiffData>',
        /its planes are kept in 2 files \(a\.ome\.tif, b\.ome\.tif\), a multi-file OME-TIFF set/,
      ],
    ];
    for (const [name, tiffData, words] of cases) {
      const path = join(dir, `${name}.ome.tif`);
      writeOmeChannelsTiff(path, f, { tiffData });
      await expect(openImage(path), name).rejects.toThrow(words);
    }
  });
});

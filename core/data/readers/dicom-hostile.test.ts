// Damaged and crafted DICOM files (written by fixtures/dicom.ts), each refused at open with the file named
// and the problem in plain words, or refused at the frame that is bad, within bounded time and memory:
// truncation, lying lengths, huge declared sizes, missing frames, offset tables pointing outside the file,
// frames larger than declared, damaged codestreams, runaway nesting. Like readers/hostile.test.ts for TIFF.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { DICOM_UNDEFINED_LENGTH, type DicomFixture, dicomElement, dicomItem, writeDicomInstance } from '../fixtures/dicom.js';
import { patternRgb } from '../fixtures/pattern.js';
import { openImage } from './registry.js';

let dir: string;
const file = (name: string): string => join(dir, name);
const image = { data: patternRgb(0, 0, 600, 400), width: 600, height: 400 };
const base = (uid: string): DicomFixture => ({ seriesUid: uid, image, tile: 256, mppUm: 0.5 });

/** `depth` undefined-length sequences nested in one another (an unknown tag, so the parser walks them). */
function nested(depth: number): Uint8Array {
  let inner = new Uint8Array(0);
  for (let i = 0; i < depth; i++) {
    const itemEnd = Uint8Array.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
    const seqEnd = Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const it = Buffer.concat([dicomItem(inner, DICOM_UNDEFINED_LENGTH), itemEnd]);
    inner = new Uint8Array(Buffer.concat([dicomElement(0x0009, 0x1010, 'SQ', it, DICOM_UNDEFINED_LENGTH), seqEnd]));
  }
  return inner;
}

/** Each case in its own folder-free file name; series UIDs differ so no file joins another's series. */
const CASES: [string, Partial<DicomFixture>, string, RegExp][] = [
  ['truncated-pixels.dcm', { truncateTo: 5000 }, 'CORRUPT', /beyond the end of the file .*truncated/],
  ['truncated-header.dcm', { truncateTo: 420 }, 'CORRUPT', /beyond the end of the file .*truncated/],
  ['truncated-jpeg.dcm', { codec: 'jpeg', truncateTo: 6000 }, 'CORRUPT', /beyond the end of the file|truncated/],
  // A text element whose 4-byte length claims 2 GiB.
  [
    'lying-length.dcm',
    { extra: dicomElement(0x0009, 0x0010, 'UT', new Uint8Array(4), 0x7ffffff0) },
    'CORRUPT',
    /beyond the end of the file/,
  ],
  ['huge-matrix.dcm', { statedSize: [400000, 400000] }, 'TOO_LARGE', /declares 400000 × 400000 pixels/],
  ['huge-frames.dcm', { statedTile: 60000 }, 'CORRUPT', /frame size 60000 × 60000/],
  ['big-frames.dcm', { statedTile: 8192 }, 'TOO_LARGE', /frames are 8192 × 8192 pixels/],
  ['frame-count-2e31.dcm', { statedFrames: 2147483647 }, 'CORRUPT', /states 2147483647 frames/],
  ['frames-missing.dcm', { statedFrames: 3 }, 'CORRUPT', /3 frames, fewer than the 6 tiles.*frames missing/],
  [
    'fragments-missing.dcm',
    { codec: 'jpeg', offsetTable: 'none', statedFrames: 9 },
    'CORRUPT',
    /6 fragments, which cannot be told apart into its 9 frames/,
  ],
  ['positions-missing.dcm', { sparseSkip: (tx) => tx === 1, statedFrames: 6 }, 'CORRUPT', /frame 5 of its 6 has no position/],
  [
    'positions-outside.dcm',
    { sparseSkip: (tx) => tx === 1, statedSize: [300, 300] },
    'CORRUPT',
    /frame 2 sits at column 513, row 1, outside its 300 × 300/,
  ],
  ['offsets-outside.dcm', { codec: 'jpeg', offsetBias: 1 << 30 }, 'CORRUPT', /frame 1 (lies beyond the end|has an impossible position)/],
  ['no-offset-table.dcm', { codec: 'jpeg', pixelDataStartsWith: [0x0008, 0x0010] }, 'CORRUPT', /does not start with an offset table item/],
  ['nested-100.dcm', { extra: nested(100) }, 'CORRUPT', /nested more than 16 deep/],
  ['not-wsi.dcm', { sopClass: '1.2.840.10008.5.1.4.1.1.2' }, 'UNSUPPORTED', /not a whole-slide microscopy image/],
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-dicom-hostile-'));
  let n = 0;
  for (const [name, spec] of CASES) await writeDicomInstance(file(name), { ...base(`2.25.${++n}`), ...spec });
  await writeDicomInstance(file('oversized-jpeg.dcm'), { ...base('2.25.100'), codec: 'jpeg', firstFrameSide: 2048 });
  await writeDicomInstance(file('oversized-j2k.dcm'), { ...base('2.25.101'), codec: 'jpeg2000', firstFrameSide: 1024 });
  await writeDicomInstance(file('damaged-j2k.dcm'), { ...base('2.25.102'), codec: 'jpeg2000', damageFirstFrame: true });
  await writeDicomInstance(file('good-j2k.dcm'), { ...base('2.25.103'), codec: 'jpeg2000-lossless' });
  await writeDicomInstance(file('mpp-1e305.dcm'), { ...base('2.25.104'), mppUm: 1e308 });
  writeFileSync(file('fake.dcm'), Buffer.alloc(2000, 0x41));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `f`, returning its result, its seconds and how much the process's RSS grew meanwhile (MB). */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number; rssGrowthMb: number }> {
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000, rssGrowthMb: (process.memoryUsage().rss - before) / 2 ** 20 };
}

describe('hostile DICOM files', () => {
  it.each(CASES.map(([name, , code, message]) => [name, code, message] as const))(
    '%s → %s at open, quickly and without a big allocation',
    async (name, code, message) => {
      const m = await measured(() =>
        openImage(file(name)).then(
          async (r) => (await r.close(), null),
          (e: unknown) => e,
        ),
      );
      expect(m.value).toBeInstanceOf(DinoscopeError);
      const err = m.value as DinoscopeError;
      expect([err.code, err.message]).toEqual([code, expect.stringMatching(message)]);
      expect(err.message.startsWith(file(name))).toBe(true);
      expect(m.seconds).toBeLessThan(10);
      expect(m.rssGrowthMb).toBeLessThan(200);
    },
  );

  it('a file named .dcm that is not DICOM is not an image format Dinoscope reads', async () => {
    const err = (await openImage(file('fake.dcm')).catch((e: unknown) => e)) as DinoscopeError;
    expect([err.code, err.message]).toEqual(['UNSUPPORTED', expect.stringContaining('not an image format Dinoscope reads')]);
  });

  it.each([
    ['oversized-jpeg.dcm', /JPEG frame is 2048 × 2048 pixels, larger than the instance's 256 × 256 frames/],
    ['oversized-j2k.dcm', /JPEG 2000 frame is 1024 × 1024 pixels, larger than the instance's 256 × 256 frames/],
    ['damaged-j2k.dcm', /frame 1 \(tile 0,0\) cannot be decoded/],
  ])('%s opens, and its bad frame is refused when read; the other tiles read', async (name, message) => {
    const r = await openImage(file(name));
    const err = (await r.readRegion(0, 0, 0, 256, 256).catch((e: unknown) => e)) as DinoscopeError;
    expect(err).toBeInstanceOf(DinoscopeError);
    expect([err.code, err.message]).toEqual(['CORRUPT', expect.stringMatching(message)]);
    const other = await r.readRegion(0, 256, 0, 256, 256);
    expect(other.data.length).toBe(256 * 256 * 3);
    await r.close();
    // The codec still decodes after a damaged codestream.
    const good = await openImage(file('good-j2k.dcm'));
    const px = await good.readRegion(0, 0, 0, 600, 400);
    expect(Buffer.compare(Buffer.from(px.data), Buffer.from(patternRgb(0, 0, 600, 400)))).toBe(0);
    await good.close();
  });

  it('an implausible pixel spacing is ignored with a warning, the image opens', async () => {
    const r = await openImage(file('mpp-1e305.dcm'));
    expect(r.meta.mpp).toBeNull();
    expect(r.meta.warnings?.[0]).toMatch(/DICOM PixelSpacing.*ignored/);
    await r.close();
  });
});

// DICOM whole slides through the built CLI (dist/cli, where the JPEG 2000 codec's WebAssembly is loaded
// from node_modules at run time), as a user runs it: `dinoscope info` of one instance describes the whole
// series, and `dinoscope import` of a folder of series imports each slide once, with its thumbnail
// decoded from its frames, beside the other images of the folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageMetadata, ImportReport } from '../../common/api.js';
import { writeDicomInstance, writeDicomSeries } from '../../data/fixtures/dicom.js';
import { patternRgb } from '../../data/fixtures/pattern.js';

let dir: string;
let slides: string;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/dinoscope.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-cli-dicom-'));
  slides = join(dir, 'slides');
  for (const [name, codec] of [
    ['j2k', 'jpeg2000'],
    ['jpeg', 'jpeg'],
  ] as const) {
    mkdirSync(join(slides, name), { recursive: true });
    await writeDicomSeries(join(slides, name), {
      seriesUid: `1.2.826.0.1.3680043.10.${name.length}`,
      width: 900,
      height: 600,
      codec,
      mppUm: 0.5,
    });
  }
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .png()
    .toFile(join(slides, 'photo.png'));
  const image = { data: patternRgb(0, 0, 512, 512), width: 512, height: 512 };
  await writeDicomInstance(join(dir, 'truncated.dcm'), { seriesUid: '2.25.9', image, tile: 256, codec: 'jpeg', truncateTo: 3000 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DICOM whole slides through the CLI', () => {
  it('info of one instance describes the series', () => {
    const r = cli('info', join(slides, 'j2k', 'label.dcm'));
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as ImageMetadata;
    expect(info).toMatchObject({ format: 'dicom', width: 900, height: 600, mpp: 0.5, tileWidth: 256 });
    expect(info.levels.map((l) => l.downsample)).toEqual([1, 2]);
    expect(info.vendor.associatedImages).toBe('label');
    expect(info.vendor['dicom.TransferSyntaxUID']).toBe('1.2.840.10008.1.2.4.91');
  });

  it('info of a truncated instance exits 2 with one line naming the file and the problem', () => {
    const r = cli('info', join(dir, 'truncated.dcm'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/truncated\.dcm: .*beyond the end of the file .*truncated\?/);
  });

  it('import of a folder takes each series once, decodes its thumbnail, keeps stdout JSON only', () => {
    const r = cli('import', join(dir, 'proj'), slides);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ImportReport; // the codec's log lines would break this
    expect(report.failed).toEqual([]);
    expect(report.added.map((a) => [a.path.slice(slides.length + 1), a.status, a.meta?.format]).sort()).toEqual([
      ['j2k/level-0.dcm', 'ok', 'dicom'],
      ['jpeg/level-0.dcm', 'ok', 'dicom'],
      ['photo.png', 'ok', 'png'],
    ]);
    for (const a of report.added) expect(existsSync(join(dir, 'proj', 'cache', 'thumbnails', `${a.id}.jpg`)), a.name).toBe(true);
  });
});

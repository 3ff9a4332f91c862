// Vendor slides through the built CLI, as a user runs it: `dinoscope info` and `dinoscope import` of a
// Philips TIFF read through OpenSlide; with the library missing (DINOSCOPE_OPENSLIDE_LIBRARY pointing at
// no file) the vendor files import as unsupported with the install line and everything else as before.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageMetadata, ImportReport } from '../../common/api.js';
import { writeSvsLike } from '../../data/fixtures/svs.js';
import { writePhilipsTiff } from '../../data/fixtures/vendor-tiff.js';

let dir: string;
let slides: string;

function cli(env: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/dinoscope.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const MISSING = (): Record<string, string> => ({ DINOSCOPE_OPENSLIDE_LIBRARY: join(dir, 'no-such-libopenslide.so.0') });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-cli-openslide-'));
  slides = join(dir, 'slides');
  mkdirSync(slides);
  await writePhilipsTiff(join(slides, 'philips.tiff'), { width: 1024, height: 768, mppUm: 0.25 });
  await writeSvsLike(join(slides, 'slide.svs'), { width: 1200, height: 900, mpp: 0.5 });
  // An MRXS slide is its .mrxs file and the data folder of the same name: the folder is not imported.
  writeFileSync(join(slides, 'scan.mrxs'), 'not a real MRXS');
  mkdirSync(join(slides, 'scan'));
  writeFileSync(join(slides, 'scan', 'Slidedat.ini'), '[GENERAL]\r\n');
  await writeSvsLike(join(slides, 'scan', 'Data0000.svs'), { width: 300, height: 300 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vendor slides through the CLI', () => {
  it('info reads a Philips TIFF through OpenSlide', () => {
    const r = cli({}, 'info', join(slides, 'philips.tiff'));
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as ImageMetadata;
    expect(info).toMatchObject({ format: 'openslide-philips', width: 1024, height: 768, mpp: 0.25 });
    expect(info.levels.map((l) => l.downsample)).toEqual([1, 2, 4]);
    expect(info.vendor.associatedImages).toBe('label,macro');
  });

  it('info without the library exits 2 with one line saying how to install it', () => {
    const r = cli(MISSING(), 'info', join(slides, 'philips.tiff'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${join(slides, 'philips.tiff')}: needs OpenSlide: this Philips TIFF file`);
    expect(lines[0]).toContain('sudo apt install libopenslide0');
  });

  it('import: vendor files unsupported without the library, ok with it; the MRXS data folder is left alone', () => {
    const without = cli(MISSING(), 'import', join(dir, 'p1'), slides);
    expect(without.status, without.stderr).toBe(0);
    const report = JSON.parse(without.stdout) as ImportReport;
    expect(report.added.map((a) => [a.name, a.status]).sort()).toEqual([
      ['philips.tiff', 'unsupported'],
      ['scan.mrxs', 'unsupported'],
      ['slide.svs', 'ok'],
    ]);
    for (const f of report.failed) expect(f.reason).toContain('needs OpenSlide');
    expect(report.failed.map((f) => f.path).sort()).toEqual([join(slides, 'philips.tiff'), join(slides, 'scan.mrxs')]);

    const withLib = cli({}, 'import', join(dir, 'p2'), slides);
    expect(withLib.status, withLib.stderr).toBe(0);
    const added = (JSON.parse(withLib.stdout) as ImportReport).added;
    expect(added.map((a) => [a.name, a.status]).sort()).toEqual([
      ['philips.tiff', 'ok'],
      ['scan.mrxs', 'corrupt'],
      ['slide.svs', 'ok'],
    ]);
    expect(added.find((a) => a.name === 'philips.tiff')?.meta?.format).toBe('openslide-philips');
    const stored = JSON.parse(readFileSync(join(dir, 'p2', 'project.json'), 'utf8')) as { images: { name: string }[] };
    expect(stored.images.map((i) => i.name).sort()).toEqual(['philips.tiff', 'scan.mrxs', 'slide.svs']);
  }, 120_000);
});

// `dinoscope import` and `info` on what real folders hold besides plain images: names that are not valid
// UTF-8 (created through Buffer paths), with a newline, a leading dash or 255 bytes long; named pipes
// (FIFOs); and a large image whose pyramid cache fails. Every good file is imported, every other one is
// in the report's failed list with its reason, and nothing hangs or aborts the rest.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../common/api.js';
import type { CliIo } from '../command.js';
import { runCli } from '../main.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-import-odd-'));
let png: Buffer;

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), signal: new AbortController().signal };
}

beforeAll(async () => {
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 90, b: 120 } } })
    .png()
    .toBuffer();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('import of odd file names', () => {
  it('imports every valid name and reports the non-UTF-8 ones without aborting the rest', async () => {
    const src = join(dir, 'odd');
    mkdirSync(src);
    const long = `${'x'.repeat(251)}.png`; // 255 bytes: the longest name Linux file systems allow
    const good = ['a-first.png', 'new\nline.png', '-dash.png', long, 'zz-last.png'];
    for (const n of good) writeFileSync(join(src, n), png);
    const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
    const badName = Buffer.concat([bytes(`${src}/b-bad-`), Buffer.from([0xff, 0xfe]), bytes('.png')]);
    writeFileSync(badName, png);
    const badDir = Buffer.concat([bytes(`${src}/c-dir-`), Buffer.from([0xc3, 0x28])]);
    mkdirSync(badDir);
    writeFileSync(Buffer.concat([badDir, bytes('/inside.png')]), png);

    const o = io();
    expect(await runCli(['import', join(dir, 'p1'), src], o), o.err.join('')).toBe(0);
    const report = JSON.parse(o.out.join('')) as ImportReport;
    expect(report.added.map((a) => [a.name, a.status]).sort()).toEqual(good.map((n) => [n, 'ok']).sort());
    expect(report.failed).toHaveLength(2);
    expect(report.failed.map((f) => f.reason).join('\n')).toMatch(/b-bad-\uFFFD\uFFFD\.png: the file name is not valid UTF-8/);
    expect(report.failed.map((f) => f.reason).join('\n')).toMatch(/c-dir-\uFFFD\(: the folder name is not valid UTF-8/);
    // Explicitly named, with a leading dash: a path, not an option.
    const d = io();
    expect(await runCli(['import', join(dir, 'p1'), join(src, '-dash.png')], d)).toBe(0);
    expect((JSON.parse(d.out.join('')) as ImportReport).skipped).toEqual([join(src, '-dash.png')]);
  }, 60_000);
});

describe('named pipes and other non-regular files', () => {
  it('import refuses a FIFO named or found in a folder, with the reason, and imports the rest', async () => {
    const src = join(dir, 'pipes');
    mkdirSync(src);
    execFileSync('mkfifo', [join(src, 'pipe.png'), join(dir, 'named.tif')]);
    writeFileSync(join(src, 'ok.png'), png);
    const o = io();
    expect(await runCli(['import', join(dir, 'p2'), src, join(dir, 'named.tif')], o), o.err.join('')).toBe(0);
    const report = JSON.parse(o.out.join('')) as ImportReport;
    expect(report.added.map((a) => [a.name, a.status])).toEqual([['ok.png', 'ok']]);
    expect(report.failed).toEqual([
      {
        path: join(src, 'pipe.png'),
        reason: `${join(src, 'pipe.png')} is a named pipe (FIFO), not a regular file: Dinoscope reads only regular files; name the file itself.`,
      },
      {
        path: join(dir, 'named.tif'),
        reason: `${join(dir, 'named.tif')} is a named pipe (FIFO), not a regular file: Dinoscope reads only regular files; name the file itself.`,
      },
    ]);
  }, 60_000);

  it('info on a FIFO or a character device exits 2 at once with the reason (the built CLI, bounded)', () => {
    const fifo = join(dir, 'info.svs');
    execFileSync('mkfifo', [fifo]);
    for (const [path, kind] of [
      [fifo, 'a named pipe (FIFO)'],
      ['/dev/zero', 'a character device'],
    ]) {
      const r = spawnSync(process.execPath, [bin, 'info', path], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, `info ${path} hung`).toBeNull();
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        `dinoscope info: ${path} is ${kind}, not a regular file: Dinoscope reads only regular files; name the file itself.\n`,
      );
    }
  }, 60_000);
});

describe('pyramid cache failures', () => {
  it('an image whose pyramid cache fails is in the failed list with the reason', async () => {
    // A 4200 px wide PNG (large enough for a pyramid cache) cut in half: its header opens, libvips fails.
    const W = 4200;
    const H = 64;
    const px = Buffer.alloc(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7919) % 251;
    const full = await sharp(px, { raw: { width: W, height: H, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const file = join(dir, 'wide.png');
    writeFileSync(file, full.subarray(0, full.length >> 1));
    writeFileSync(join(dir, 'zz-last.png'), png);
    const o = io();
    expect(await runCli(['import', join(dir, 'p3'), file, join(dir, 'zz-last.png')], o), o.err.join('')).toBe(0);
    const report = JSON.parse(o.out.join('')) as ImportReport;
    expect(report.added.map((a) => [a.name, a.status])).toEqual([
      ['wide.png', 'corrupt'],
      ['zz-last.png', 'ok'],
    ]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0].path).toBe(file);
    expect(report.failed[0].reason).toMatch(/^The pyramid cache for .*wide\.png could not be built: .*damaged or truncated/);
  }, 60_000);
});

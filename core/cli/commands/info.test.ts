// `dinoscope info` end to end: the built CLI, spawned as a user would run it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePyramidalTiff } from '../../data/fixtures/pyramidal-tiff.js';

let dir: string;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/dinoscope.js', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-info-'));
  await writePyramidalTiff(join(dir, 'slide.tif'), { width: 1200, height: 900, compression: 'deflate', pixelsPerMm: 2000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope info', () => {
  it('prints the metadata as JSON', () => {
    const r = cli('info', join(dir, 'slide.tif'));
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      format: 'tiled-tiff',
      width: 1200,
      height: 900,
      levels: [
        { width: 1200, height: 900, downsample: 1 },
        { width: 600, height: 450, downsample: 2 },
        { width: 300, height: 225, downsample: 4 },
        { width: 150, height: 112, downsample: 8 },
      ],
      tileWidth: 256,
      tileHeight: 256,
    });
    expect(info.mpp).toBeCloseTo(0.5, 6);
  });

  it('exits 2 with a one-line error naming the file', () => {
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    for (const [name, word] of [
      ['notes.txt', 'not an image format'],
      ['missing.svs', 'no such file'],
    ]) {
      const r = cli('info', join(dir, name));
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(name);
      expect(lines[0]).toContain(word);
    }
    expect(cli('info').status).toBe(2);
  });
});

// `dinoscope info` on multi-channel images, with the built CLI: an OME-Zarr folder and a multi-channel
// OME-TIFF print their channels; a .zarr folder without its level metadata exits 2 with one plain line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChannelFixtures, type WrittenChannelFixtures } from '../../data/fixtures/write-channel-fixtures.js';

let dir: string;
let fx: WrittenChannelFixtures;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/dinoscope.js', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-info-channels-'));
  fx = await writeChannelFixtures(dir, { width: 256, height: 256, levels: 2 });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope info: multi-channel images', () => {
  it.each([
    ['zarrV2', 'ome-zarr'],
    ['zarrV3', 'ome-zarr'],
    ['omeTiff', 'ome-tiff'],
  ] as const)('%s prints its channels', (which, format) => {
    const r = cli('info', fx[which]);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { format: string; channels: { name: string; sampleType: string }[]; mpp: number };
    expect(info.format).toBe(format);
    expect(info.mpp).toBeCloseTo(0.65, 9);
    expect(info.channels.map((c) => [c.name, c.sampleType])).toEqual(fx.fixture.channels.map((c) => [c.name, 'uint16']));
  });

  it('a .zarr folder missing a level exits 2 with one line naming it', () => {
    rmSync(join(fx.zarrV3, '1', 'zarr.json'));
    const r = cli('info', fx.zarrV3);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/channels-v3\.ome\.zarr: level 1 \("1"\) has no array metadata/);
  });
});

// dinoscope export, run in-process on a real project with no search run: csv exports features (no
// score columns), qupath writes GeoJSON + open-in-qupath.txt and says on stderr what to do in QuPath,
// --pixels-per-patch enlarges maps; a bad value is BAD_INPUT naming the flag.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, type MosaicSpec } from '../../analysis/fixture.js';
import { analysisProject } from '../../app/fixture-service.js';
import type { CliIo } from '../command.js';
import { exportCommand } from './export.js';

const SPEC: MosaicSpec = { side: 224, stride: 14, dim: 6 };
const GRID = SPEC.side / SPEC.stride;
let root: string;
let project: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-export-'));
  const { service } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 2, SPEC), SPEC);
  project = service.requireProject().dir;
  await service.close();
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal };
  const code = await exportCommand.run(['--project', project, ...argv], io);
  return { code, out, err };
}

describe('dinoscope export', () => {
  it('csv without a search: features of every patch', async () => {
    const r = await run(['--format', 'csv', '--out', join(root, 'csv')]);
    expect(r.code).toBe(0);
    const { paths } = JSON.parse(r.out) as { paths: string[] };
    const lines = (await readFile(paths[0], 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toBe('image,x,y,col,row,f0,f1,f2,f3,f4,f5');
    expect(lines).toHaveLength(1 + 2 * GRID * GRID);
  });

  it('qupath: GeoJSON per image, the guide file, and the next steps on stderr', async () => {
    const r = await run(['--format', 'qupath', '--k', '3', '--out', join(root, 'qp')]);
    const j = JSON.parse(r.out) as { paths: string[]; notice: string };
    expect(j.paths.map((p) => basename(p).replace(/^.*\./, ''))).toEqual(['geojson', 'geojson', 'txt']);
    expect(r.err).toContain('File › Import objects from file…');
    expect(j.notice).toContain(join(root, 'qp'));
  });

  it('--pixels-per-patch enlarges a map; a bad value is refused naming the flag', async () => {
    const r = await run(['--format', 'png', '--what', 'clusters', '--k', '3', '--pixels-per-patch', '4', '--out', join(root, 'png')]);
    const { paths } = JSON.parse(r.out) as { paths: string[] };
    const meta = await sharp(paths[0]).metadata();
    expect([meta.width, meta.height]).toEqual([4 * GRID, 4 * GRID]);
    await expect(run(['--format', 'png', '--pixels-per-patch', 'two'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('--pixels-per-patch'),
    });
  });
});

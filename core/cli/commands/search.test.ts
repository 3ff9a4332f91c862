// dinoscope search | pca | segment | export, run in-process on a real project (texture mosaics imported
// by the AppService, synthetic feature stores in the extraction layout): JSON on stdout, progress on
// stderr, BAD_INPUT (exit 2) with one line naming the problem.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textureAt, writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../../analysis/fixture.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { DEFAULT_CLUSTER_K } from '../../common/clusters.js';
import { DEFAULT_MAP_SMOOTHING } from '../../common/map-smoothing.js';
import type { CliIo, Command } from '../command.js';
import { exportCommand } from './export.js';
import { pcaCommand } from './pca.js';
import { searchCommand } from './search.js';
import { segmentCommand } from './segment.js';

const SPEC: MosaicSpec = { side: 336, stride: 14, dim: 24 };
let root: string;
let project: string;
let names: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-analysis-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const paths = await writeMosaics(join(root, 'slides'), 2, SPEC);
  project = join(root, 'project');
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
  await service.createProject(project);
  await service.importPaths(paths);
  await service.idle();
  const images = (await service.currentProject())!.images;
  const ids = paths.map((p) => images.find((i) => i.path === p)!.id);
  names = paths.map((p) => images.find((i) => i.path === p)!.name);
  await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
  await service.close();
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function run(cmd: Command, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal };
  const code = await cmd.run(argv, io);
  return { code, out, err };
}

describe('analysis CLI', () => {
  it('search prints the matches as JSON, all of the clicked texture', async () => {
    const r = await run(searchCommand, ['--project', project, '--image', names[0], '--x', '20', '--y', '20', '--k', '6']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('search:');
    const j = JSON.parse(r.out) as { matches: { name: string; x: number; y: number; score: number }[] };
    expect(j.matches).toHaveLength(6);
    const grid = SPEC.side / SPEC.stride;
    for (const m of j.matches)
      expect(textureAt(names.indexOf(m.name), Math.floor(m.x / SPEC.stride), Math.floor(m.y / SPEC.stride), grid)).toBe(
        textureAt(0, 1, 1, grid),
      );
  });

  it('search --queries runs many queries over one index, each as the single search gives it', async () => {
    const file = join(root, 'queries.json');
    const queries = [
      { image: names[0], x: 20, y: 20, k: 4 },
      {
        image: names[1],
        points: [
          { x: 200, y: 30 },
          { x: 214, y: 30 },
        ],
      },
    ];
    await writeFile(file, JSON.stringify(queries));
    const r = await run(searchCommand, ['--project', project, '--queries', file, '--k', '3']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { results: { query: object; matches: unknown[] }[] };
    expect(j.results).toHaveLength(2);
    const one = JSON.parse(
      (await run(searchCommand, ['--project', project, '--image', names[0], '--x', '20', '--y', '20', '--k', '4'])).out,
    ) as { matches: unknown[] };
    expect(j.results[0].matches).toEqual(one.matches);
    expect(j.results[1].matches).toHaveLength(3);
    expect(j.results[1].query).toMatchObject({ points: queries[1].points, patches: 2 });
    await writeFile(file, JSON.stringify([{ image: names[0], x: 'left', y: 1 }]));
    await expect(run(searchCommand, ['--project', project, '--queries', file])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('query 1: needs numbers "x" and "y"'),
    });
    await expect(run(searchCommand, ['--project', project, '--queries', file, '--image', names[0]])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('leave out --image'),
    });
  });

  it('pca, segment and export write files and list them', async () => {
    const p = JSON.parse((await run(pcaCommand, ['--project', project, '--out', join(root, 'pca')])).out) as {
      paths: string[];
      threshold: number | null;
    };
    expect(p.paths).toHaveLength(2);
    // The set indexes tissue (mask auto): no threshold by default, every indexed patch coloured. An asked
    // threshold reaches the written maps (it used to be printed but the maps were made at the default).
    expect(p.threshold).toBeNull();
    const opaque = async (path: string): Promise<number> => {
      const { data } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] === 255) n++;
      return n;
    };
    const t = JSON.parse((await run(pcaCommand, ['--project', project, '--threshold', '0', '--out', join(root, 'pca0')])).out) as {
      paths: string[];
      threshold: number | null;
    };
    expect(t.threshold).toBe(0);
    expect(await opaque(t.paths[0])).toBeLessThan(await opaque(p.paths[0]));
    const none = JSON.parse((await run(pcaCommand, ['--project', project, '--threshold', 'none', '--out', join(root, 'pcan')])).out) as {
      paths: string[];
      threshold: number | null;
    };
    expect(none.threshold).toBeNull();
    expect(await opaque(none.paths[0])).toBe(await opaque(p.paths[0]));
    const s = JSON.parse((await run(segmentCommand, ['--project', project, '--k', '4', '--out', join(root, 'seg')])).out) as {
      paths: string[];
    };
    expect(s.paths.filter((x) => x.endsWith('.geojson'))).toHaveLength(2);
    expect(
      JSON.parse(
        await readFile(
          s.paths.find((x) => x.endsWith('.geojson'))!,
          'utf8',
        ),
      ).features,
    ).toHaveLength(4);
    const e = JSON.parse(
      (
        await run(exportCommand, [
          '--project',
          project,
          '--format',
          'csv',
          '--image',
          names[1],
          '--x',
          '200',
          '--y',
          '30',
          '--out',
          join(root, 'csv'),
        ])
      ).out,
    ) as { paths: string[] };
    expect((await readFile(e.paths[0], 'utf8')).split('\r\n')[0]).toBe('image,x,y,score,rank');
    const z = JSON.parse(
      (await run(exportCommand, ['--project', project, '--format', 'zarr', '--image', names[0], '--out', join(root, 'zarr')])).out,
    ) as { paths: string[] };
    expect((await stat(join(z.paths[0], '0', 'zarr.json'))).isFile()).toBe(true);
  });

  it('segment and the geojson export without --k both use the one default k', async () => {
    const s = JSON.parse((await run(segmentCommand, ['--project', project, '--out', join(root, 'seg-default')])).out) as {
      k: number;
      paths: string[];
    };
    expect(s.k).toBe(DEFAULT_CLUSTER_K);
    const e = JSON.parse(
      (await run(exportCommand, ['--project', project, '--format', 'geojson', '--out', join(root, 'geo-default')])).out,
    ) as { paths: string[] };
    const clusters = async (path: string): Promise<number[]> =>
      (JSON.parse(await readFile(path, 'utf8')) as { features: { properties: { classification: { name: string } } }[] }).features
        .map((f) => Number(/\d+/.exec(f.properties.classification.name)![0]))
        .sort((a, b) => a - b);
    const fromSegment = await clusters(s.paths.find((x) => x.endsWith('.geojson'))!);
    expect(fromSegment.length).toBeGreaterThan(0);
    expect(Math.max(...fromSegment)).toBeLessThan(DEFAULT_CLUSTER_K);
    expect(await clusters(e.paths[0])).toEqual(fromSegment);
  });

  it('--smoothing reaches the maps segment and pca write, the default printed; a bad value is refused', async () => {
    const seg = async (extra: string[], out: string) =>
      JSON.parse((await run(segmentCommand, ['--project', project, '--k', '4', ...extra, '--out', join(root, out)])).out) as {
        smoothing: number;
        paths: string[];
      };
    const byDefault = await seg([], 'seg-s-default');
    expect(byDefault.smoothing).toBe(DEFAULT_MAP_SMOOTHING);
    const off = await seg(['--smoothing', '0'], 'seg-s-off');
    expect(off.smoothing).toBe(0);
    const wide = await seg(['--smoothing', '4'], 'seg-s-wide');
    // A 4-patch Gaussian pulls the patches near a quadrant's border towards the neighbouring quadrants: the
    // label images differ from those of the default.
    const labels = async (r: { paths: string[] }): Promise<string> =>
      (
        await sharp(r.paths.find((x) => x.endsWith('.clusters.png'))!)
          .raw()
          .toBuffer()
      ).toString('base64');
    expect(await labels(wide)).not.toBe(await labels(byDefault));
    const pca = JSON.parse((await run(pcaCommand, ['--project', project, '--smoothing', '0.5', '--out', join(root, 'pca-s')])).out) as {
      smoothing: number;
    };
    expect(pca.smoothing).toBe(0.5);
    for (const [cmd, flag] of [
      [segmentCommand, '-1'],
      [pcaCommand, '9'],
      [exportCommand, 'lots'],
    ] as const)
      await expect(
        run(cmd, ['--project', project, '--smoothing', flag, ...(cmd === exportCommand ? ['--format', 'png', '--what', 'clusters'] : [])]),
      ).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/smoothing/) as unknown });
  });

  it('bad input is a one-line BAD_INPUT naming the problem', async () => {
    await expect(run(searchCommand, ['--project', project, '--image', 'nope.png', '--x', '1', '--y', '1'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('nope.png'),
    });
    await expect(run(searchCommand, ['--project', project, '--image', names[0], '--x', 'abc', '--y', '1'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('--x'),
    });
    await expect(run(searchCommand, ['--project', join(root, 'missing'), '--image', 'a', '--x', '1', '--y', '1'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('not a Dinoscope project'),
    });
    await expect(run(segmentCommand, ['--project', project, '--k', '1'])).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(run(exportCommand, ['--project', project, '--format', 'bmp'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('bmp'),
    });
    await expect(run(pcaCommand, ['--project', project, '--bogus', '1'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('--bogus'),
    });
  });
});

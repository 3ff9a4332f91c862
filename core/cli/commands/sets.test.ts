// dinoscope sets and the --set flag of pca, segment and export, in-process on a real project (texture
// mosaics imported by the AppService, two synthetic feature sets in the extraction layout: "older" over
// both images, "newer" over the first only): JSON on stdout, the set analysed named in it, BAD_INPUT with
// one line naming the problem.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../../analysis/fixture.js';
import { importedProject } from '../../app/fixture-service.js';
import type { FeatureSetInfo } from '../../common/api.js';
import type { CliIo, Command } from '../command.js';
import { exportCommand } from './export.js';
import { pcaCommand } from './pca.js';
import { searchCommand } from './search.js';
import { segmentCommand } from './segment.js';
import { setsCommand } from './sets.js';

const SPEC: MosaicSpec = { side: 224, stride: 14, dim: 16 };
let root: string;
let project: string;
let ids: string[];
let names: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-sets-'));
  const p = await importedProject(root, await writeMosaics(join(root, 'slides'), 2, SPEC));
  ({ ids, names } = p);
  project = join(root, 'project');
  await writeSyntheticFeatures(p.service.requireProject(), ids, SPEC, 'older');
  await new Promise((r) => setTimeout(r, 5));
  await writeSyntheticFeatures(p.service.requireProject(), [ids[0]], SPEC, 'newer');
  await p.service.close();
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

const list = async (...argv: string[]): Promise<FeatureSetInfo[]> =>
  JSON.parse((await run(setsCommand, [...argv, '--project', project])).out) as FeatureSetInfo[];
/** The image ids an export/segment/pca result wrote files for (file names start with the image id or name). */
const imagesIn = (paths: string[]): number[] =>
  [0, 1].filter((i) => paths.some((p) => basename(p).startsWith(ids[i]) || basename(p).startsWith(names[i].replace(/\.png$/, ''))));

describe('dinoscope sets and --set', () => {
  it('sets lists the sets with coverage and the active one; pca, segment and export take --set', async () => {
    const sets = await list();
    expect(sets.map((s) => [s.id, s.active, s.imagesWithFeatures, s.images, s.patches])).toEqual([
      ['older', true, 2, 2, 2 * 16 * 16],
      ['newer', false, 1, 2, 16 * 16],
    ]);
    expect(sets[0]).toMatchObject({ modelId: 'synthetic', level: 0, mpp: null, dim: 16 });
    const pcaDefault = JSON.parse((await run(pcaCommand, ['--project', project, '--out', join(root, 'pca-a')])).out) as {
      paths: string[];
      featureSet: string;
    };
    expect(pcaDefault.featureSet).toBe('older');
    expect(imagesIn(pcaDefault.paths)).toEqual([0, 1]);
    const pca = await run(pcaCommand, ['--project', project, '--set', 'newer', '--out', join(root, 'pca-b')]);
    expect(pca.err).toContain('feature set newer');
    const pcaJ = JSON.parse(pca.out) as { paths: string[]; featureSet: string };
    expect(pcaJ.featureSet).toBe('newer');
    expect(imagesIn(pcaJ.paths)).toEqual([0]);
    const seg = JSON.parse(
      (await run(segmentCommand, ['--project', project, '--k', '2', '--set', 'newer', '--out', join(root, 'seg')])).out,
    ) as { paths: string[]; featureSet: string };
    expect(seg.featureSet).toBe('newer');
    expect(imagesIn(seg.paths)).toEqual([0]);
    const npy = JSON.parse(
      (await run(exportCommand, ['--project', project, '--format', 'npy', '--set', 'newer', '--out', join(root, 'npy')])).out,
    ) as { paths: string[]; featureSet: string };
    expect(npy.featureSet).toBe('newer');
    expect(imagesIn(npy.paths)).toEqual([0]);
    await expect(run(pcaCommand, ['--project', project, '--set', 'nope'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('no feature set "nope" (have: older, newer)'),
    });
    // search names the file, not its id, when the image is not in the set asked for.
    const miss = run(searchCommand, ['--project', project, '--set', 'newer', '--image', names[1], '--x', '20', '--y', '20']);
    await expect(miss).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(new RegExp(`^${names[1].replace('.', '\\.')} has no features in the feature set "newer"`)),
    });
  }, 60_000);

  it('sets use makes a set active (persisted); sets delete removes it; bad input is one line', async () => {
    expect((await list('use', '--set', 'newer')).map((s) => [s.id, s.active])).toEqual([
      ['older', false],
      ['newer', true],
    ]);
    expect((JSON.parse(await readFile(join(project, 'project.json'), 'utf8')) as { activeFeatureSet: string }).activeFeatureSet).toBe(
      'newer',
    );
    const pca = JSON.parse((await run(pcaCommand, ['--project', project, '--out', join(root, 'pca-c')])).out) as { featureSet: string };
    expect(pca.featureSet).toBe('newer');
    expect((await list('delete', '--set', 'newer')).map((s) => [s.id, s.active])).toEqual([['older', false]]);
    await expect(stat(join(project, 'cache', 'features', 'newer'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(run(pcaCommand, ['--project', project])).rejects.toThrow(
      /No feature set is chosen for analysis: .*dinoscope sets use --set ID.*This project has older/,
    );
    await expect(run(setsCommand, ['use', '--project', project])).rejects.toThrow('sets use needs --set S');
    await expect(run(setsCommand, ['rename', '--project', project])).rejects.toThrow('unexpected argument "rename"');
    await expect(run(setsCommand, ['delete', '--project', project, '--set', 'gone'])).rejects.toThrow(
      `${project} has no feature set "gone" (it has: older)`,
    );
  }, 60_000);
});

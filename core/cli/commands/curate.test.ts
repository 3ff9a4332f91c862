// dinoscope curate on a real project whose features follow its images' textures (core/analysis/fixture.ts:
// four textures in quadrants, one rotation per image): the tile list lies inside the images, every top-level
// cluster gets its share, the cap per image holds, and bad flags are BAD_INPUT naming the flag. Runs trained
// from the list say so: their records, their JSON summaries, `dinoscope runs` and the app's run list.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textureAt, writeMosaics, type MosaicSpec } from '../../analysis/fixture.js';
import { analysisProject } from '../../app/fixture-service.js';
import { DinoscopeError } from '../../common/errors.js';
import { readTileList } from '../../data/train/tile-list.js';
import type { CliIo } from '../command.js';
import { curateCommand } from './curate.js';
import { pretrainCommand } from './pretrain.js';
import { distilCommand } from './distil.js';
import { runsCommand } from './runs.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { Project } from '../../project/project.js';
import { type RunRecord, record } from '../../train/run.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 8, noise: 0.2 };
const GRID = SPEC.side / SPEC.stride; // 32 patches a side: 8 × 8 tiles of 4 patches per image
let root: string;
let project: string;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-curate-'));
  const p = await analysisProject(root, await writeMosaics(join(root, 'slides'), 3, SPEC), SPEC);
  project = p.service.requireProject().dir;
  ids = p.ids;
  await p.service.close();
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function run(argv: string[], command = curateCommand): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal };
  const code = await command.run(['--project', project, ...argv], io);
  return { code, out, err };
}

describe('dinoscope curate', () => {
  it('writes a balanced tile list inside the images, capped per image', async () => {
    const r = await run(['--tile-patches', '4', '--tiles', '48', '--levels', '12,4', '--image-cap', '0.4', '--dedup', '0.999']);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as { path: string; candidates: number; duplicates: number; picked: number; clustersAfter: number[] };
    expect(s.candidates).toBe(3 * 64);
    expect(s.picked).toBe(48);
    expect(r.err).toContain('curation: 192 candidate tiles');
    const list = await readTileList(s.path);
    expect(s.path).toBe(join(project, 'cache', 'curation', 'curated.json'));
    expect(list.tiles).toHaveLength(48);
    const perImage = new Map<string, number>();
    const perTexture = [0, 0, 0, 0];
    for (const t of list.tiles) {
      expect(t.size).toBe(4 * SPEC.stride);
      expect(t.x % t.size).toBe(0);
      expect(t.x + t.size).toBeLessThanOrEqual(SPEC.side);
      expect(t.y + t.size).toBeLessThanOrEqual(SPEC.side);
      perImage.set(t.imageId, (perImage.get(t.imageId) ?? 0) + 1);
      perTexture[textureAt(ids.indexOf(t.imageId), t.x / SPEC.stride, t.y / SPEC.stride, GRID)]++;
    }
    for (const c of perImage.values()) expect(c).toBeLessThanOrEqual(Math.ceil(0.4 * 48));
    // Four textures, four top-level clusters: 12 tiles of each.
    expect(s.clustersAfter).toEqual([12, 12, 12, 12]);
    expect(perTexture).toEqual([12, 12, 12, 12]);
  });

  it('pretrain --data curated samples from the list and says so', async () => {
    const r = await run(['--tiny', '--steps', '2', '--threads', '1', '--run', 'cur', '--data', 'curated'], pretrainCommand);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/data: sampling from the curated set "curated": 48 tiles on 3 images, chosen with feature set /);
    expect((JSON.parse(r.out) as { data: string }).data).toBe('curated:curated');
    const missing = run(['--tiny', '--steps', '1', '--run', 'cur2', '--data', 'curated:nope'], pretrainCommand);
    await expect(missing).rejects.toThrow(/nope\.json does not exist: make the curated set first \(dinoscope curate\)/);
    await expect(run(['--tiny', '--data', 'sometimes'], pretrainCommand)).rejects.toThrow(
      /--data must be uniform, curated or curated:NAME/,
    );
  }, 300_000);

  it('distil --data curated samples from the list and the run records it; startDistillation refuses a missing set', async () => {
    // The --tiny model of the run "cur" above as the teacher, a narrower one-block student.
    const over = JSON.stringify({
      batchSize: 2,
      crops: { globalSize: 32, localSize: 16, localCrops: 2 },
      head: { hidden: 32, bottleneck: 16 },
      model: { vit: { dim: 16, depth: 1, heads: 2 } },
    });
    const argv = ['--teacher', 'cur', '--student', 'tiny', '--steps', '2', '--threads', '1', '--overrides', over];
    const r = await run([...argv, '--run', 'dcur', '--data', 'curated'], distilCommand);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/data: sampling from the curated set "curated": 48 tiles on 3 images/);
    const u = await run([...argv, '--run', 'duni'], distilCommand);
    expect(u.code, u.err).toBe(0);
    expect(u.err).not.toMatch(/curated set/);
    // The JSON summaries on stdout say which tiles each run trained on.
    expect((JSON.parse(r.out) as { data: string }).data).toBe('curated:curated');
    expect((JSON.parse(u.out) as { data: string }).data).toBe('uniform');
    const records = (await Project.open(project)).runs() as { name: string; data?: string }[];
    expect(records.find((x) => x.name === 'dcur')?.data).toBe('curated:curated');
    expect(records.find((x) => x.name === 'duni')?.data).toBe('uniform');
    expect(records.find((x) => x.name === 'cur')?.data).toBe('curated:curated');
    // A run recorded before curated sets existed (no data) trained on every image's tissue.
    const old = records.find((x) => x.name === 'duni') as unknown as RunRecord;
    await record(project, { ...old, name: 'before-curation', data: undefined });
    // `dinoscope runs` lists every run with the tiles it trained on.
    const listing = await run([], runsCommand);
    expect(listing.code, listing.err).toBe(0);
    const rows = JSON.parse(listing.out) as { name: string; data: string; status: string }[];
    expect(Object.fromEntries(rows.map((x) => [x.name, x.data]))).toEqual({
      cur: 'curated:curated',
      dcur: 'curated:curated',
      duni: 'uniform',
      'before-curation': 'uniform',
    });
    expect(listing.err).toMatch(/^dcur: pretrain quick, done at step 2\/2, tiles: curated set "curated"$/m);
    expect(listing.err).toMatch(/^duni: pretrain quick, done at step 2\/2, tiles: all tissue, uniformly$/m);
    await expect(run(['list'], runsCommand)).rejects.toThrow(/unexpected argument "list"/);

    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
    try {
      await service.openProject(project);
      // The app's run list (Train panel) says the same.
      const listed = new Map((await service.trainingRuns()).map((x) => [x.name, x.data]));
      expect(Object.fromEntries(listed)).toEqual({
        cur: 'curated:curated',
        dcur: 'curated:curated',
        duni: 'uniform',
        'before-curation': 'uniform',
      });
      await expect(service.startDistillation({ teacher: 'cur', students: ['tiny'], steps: 1, tiles: 'nope' })).rejects.toThrow(
        /nope\.json does not exist: make the curated set first/,
      );
    } finally {
      await service.close();
    }
  }, 300_000);

  it('refuses bad flags naming them', async () => {
    await expect(run(['--dedup', '1.5'])).rejects.toThrow(/--dedup is a cosine similarity/);
    await expect(run(['--levels', '4,x'])).rejects.toThrow(/--levels must be whole numbers/);
    await expect(run(['--levels', '4,8'])).rejects.toThrow(/fewer clusters than the one below/);
    await expect(run(['--name', '../x'])).rejects.toBeInstanceOf(DinoscopeError);
  });
});

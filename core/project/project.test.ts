// Projects on disk: create/open/recent, schema validation, import of files and folders (a corrupt file,
// a .txt, an unsupported file), thumbnails, and images reported missing after they move.
import { mkdtemp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../app/service.js';
import { DinoscopeError } from '../common/errors.js';
import { imageIdFor } from './image-id.js';
import { Project } from './project.js';

let root: string;
const service = (): AppService => new AppService({ host: 'serve', version: 'test', urls: rootAssetUrls, homeDir: root });

async function rejection(p: Promise<unknown>): Promise<DinoscopeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DinoscopeError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-project-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const images = join(root, 'images');
  await mkdir(join(images, 'sub'), { recursive: true });
  await mkdir(join(images, '.hidden'), { recursive: true });
  await sharp({ create: { width: 900, height: 300, channels: 3, background: { r: 180, g: 40, b: 90 } } })
    .png()
    .toFile(join(images, 'wide.png'));
  await sharp({ create: { width: 120, height: 200, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .toFile(join(images, 'sub', 'small.jpg'));
  // A JPEG without an extension: found by its signature.
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .jpeg()
    .toFile(join(images, 'sub', 'noext'));
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png()
    .toFile(join(images, '.hidden', 'skip.png'));
  const good = await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 9, g: 9, b: 9 } } })
    .png()
    .toBuffer();
  await writeFile(join(images, 'truncated.png'), good.subarray(0, 60));
  await writeFile(join(images, 'notes.txt'), 'not an image\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('project folder', () => {
  it('creates project.json with the versioned schema and cache folders', async () => {
    const p = await Project.create(join(root, 'p1'), 'First');
    const json = JSON.parse(await readFile(join(root, 'p1', 'project.json'), 'utf8'));
    expect(json).toMatchObject({ schema: 'dinoscope-project', version: 1, name: 'First', images: [], models: [], runs: [], features: [] });
    expect(p.summary()).toEqual({ path: join(root, 'p1'), name: 'First', images: [] });
    expect((await rejection(Project.create(join(root, 'p1')))).code).toBe('BAD_INPUT');
    expect((await Project.open(join(root, 'p1'))).name).toBe('First');
  });

  it('explains a missing, damaged or newer project.json, naming the file', async () => {
    const missing = await rejection(Project.open(join(root, 'nope')));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain(join(root, 'nope', 'project.json'));
    await mkdir(join(root, 'bad'));
    await writeFile(join(root, 'bad', 'project.json'), '{"schema": ');
    const broken = await rejection(Project.open(join(root, 'bad')));
    expect(broken.code).toBe('CORRUPT');
    expect(broken.message).toContain(join(root, 'bad', 'project.json'));
    await writeFile(join(root, 'bad', 'project.json'), JSON.stringify({ schema: 'dinoscope-project', version: 99 }));
    expect((await rejection(Project.open(join(root, 'bad')))).message).toMatch(/version 99 is not supported/);
    await writeFile(
      join(root, 'bad', 'project.json'),
      JSON.stringify({
        schema: 'dinoscope-project',
        version: 1,
        name: 'x',
        createdAt: 'now',
        images: [{ id: 'a', path: '/a', name: 'a', addedAt: 'now', bytes: 1, mtime: 1, status: 'shiny' }],
        models: [],
        runs: [],
        features: [],
      }),
    );
    expect((await rejection(Project.open(join(root, 'bad')))).message).toContain('images[0].status must be one of');
  });

  it('remembers recent projects, most recent first, in $DINOSCOPE_HOME', async () => {
    const s = service();
    await s.createProject(join(root, 'r1'));
    await s.createProject(join(root, 'r2'), 'Second');
    await s.openProject(join(root, 'r1'));
    const recent = await s.recentProjects();
    expect(recent.map((r) => r.path).slice(0, 2)).toEqual([join(root, 'r1'), join(root, 'r2')]);
    expect(recent[1].name).toBe('Second');
    expect(JSON.parse(await readFile(join(root, 'home', 'recent.json'), 'utf8'))[0].path).toBe(join(root, 'r1'));
    await s.close();
  });
});

describe('import', () => {
  it('imports a folder recursively and named files; failures stay listed with their reason', async () => {
    const s = service();
    await s.createProject(join(root, 'imp'));
    const images = join(root, 'images');
    const report = await s.importPaths([images, join(images, 'notes.txt'), join(root, 'does-not-exist')]);
    const byName = new Map(report.added.map((e) => [e.name, e]));
    // notes.txt is skipped by the folder walk but listed because it was named explicitly.
    expect([...byName.keys()].sort()).toEqual(['noext', 'notes.txt', 'small.jpg', 'truncated.png', 'wide.png']);
    expect(byName.get('wide.png')).toMatchObject({ status: 'ok', bytes: expect.any(Number), meta: { width: 900, height: 300 } });
    expect(byName.get('small.jpg')?.status).toBe('ok');
    expect(byName.get('noext')?.status).toBe('ok');
    expect(byName.get('truncated.png')?.status).toBe('corrupt');
    expect(byName.get('truncated.png')?.reason).toContain(join(images, 'truncated.png'));
    expect(byName.get('notes.txt')?.status).toBe('unsupported');
    expect(byName.get('notes.txt')?.reason).toContain('notes.txt');
    expect(report.failed.map((f) => f.path).sort()).toEqual(
      [join(root, 'does-not-exist'), join(images, 'notes.txt'), join(images, 'truncated.png')].sort(),
    );
    expect(byName.get('wide.png')?.id).toBe(imageIdFor(join(images, 'wide.png')));

    const thumb = await sharp(await s.thumbnail(byName.get('wide.png')!.id)).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 256, 85]);
    const small = await sharp(await s.thumbnail(byName.get('small.jpg')!.id)).metadata();
    expect([small.width, small.height]).toEqual([120, 200]);

    const again = await s.importPaths([join(images, 'wide.png')]);
    expect(again).toEqual({ added: [], skipped: [join(images, 'wide.png')], failed: [] });
    expect((await s.currentProject())?.images).toHaveLength(5);
    const saved = JSON.parse(await readFile(join(root, 'imp', 'project.json'), 'utf8'));
    expect(saved.images).toHaveLength(5);
    await s.close();
  });

  it('reports moved images as missing on reopen, naming the path', async () => {
    const dir = join(root, 'moving');
    await mkdir(dir);
    await sharp({ create: { width: 50, height: 50, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .png()
      .toFile(join(dir, 'm.png'));
    const s1 = service();
    await s1.createProject(join(root, 'mp'));
    await s1.importPaths([join(dir, 'm.png')]);
    await s1.close();
    await rename(join(dir, 'm.png'), join(dir, 'moved.png'));
    const s2 = service();
    const summary = await s2.openProject(join(root, 'mp'));
    expect(summary.images[0].status).toBe('missing');
    expect(summary.images[0].reason).toContain(join(dir, 'm.png'));
    const reread = JSON.parse(await readFile(join(root, 'mp', 'project.json'), 'utf8'));
    expect(reread.images[0].status).toBe('missing');
    await expect(s2.tileSource(summary.images[0].id)).rejects.toThrow(/cannot be shown/);
    await s2.close();
  });

  it('builds a pyramid cache for a large non-pyramidal image as a job: caching, then ok', async () => {
    const big = join(root, 'big.jpg');
    await sharp({ create: { width: 5000, height: 300, channels: 3, background: { r: 200, g: 100, b: 150 } } })
      .jpeg()
      .toFile(big);
    const s = service();
    await s.createProject(join(root, 'cp'));
    const kinds: string[] = [];
    s.on('jobProgress', (p) => kinds.push(`${p.kind}:${p.state}`));
    const report = await s.importPaths([big]);
    expect(report.added[0].status).toBe('caching');
    await expect(s.tileSource(report.added[0].id)).rejects.toThrow(/cannot be shown/);
    await s.idle();
    const entry = (await s.currentProject())!.images[0];
    expect(entry.status).toBe('ok');
    expect(entry.reason).toBeUndefined();
    expect(kinds).toContain('pyramid-cache:done');
    const saved = JSON.parse(await readFile(join(root, 'cp', 'project.json'), 'utf8'));
    expect(saved.images[0].pyramidCache).toMatch(/^cache[/\\]pyramids[/\\]/);
    expect((await sharp(await s.thumbnail(entry.id)).metadata()).width).toBe(256);
    const src = await s.tileSource(entry.id);
    expect([src.width, src.height, src.maxLevel]).toEqual([5000, 300, 13]);
    const tile = await sharp(await s.tile(entry.id, 13, 19, 1))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([tile.info.width, tile.info.height]).toEqual([136, 44]);
    expect(Math.abs(tile.data[0] - 200)).toBeLessThan(8);
    await s.close();

    // Quit while caching: on reopen the cache build resumes.
    const file = join(root, 'cp', 'project.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.images[0].status = 'caching';
    delete json.images[0].pyramidCache;
    await writeFile(file, JSON.stringify(json));
    const s2 = service();
    expect((await s2.openProject(join(root, 'cp'))).images[0].status).toBe('caching');
    await s2.idle();
    expect((await s2.currentProject())!.images[0].status).toBe('ok');
    await s2.close();
  });

  it('removes an image and its thumbnail', async () => {
    const s = service();
    await s.openProject(join(root, 'imp'));
    const wide = (await s.currentProject())!.images.find((i) => i.name === 'wide.png')!;
    const after = await s.removeImage(wide.id);
    expect(after.images.map((i) => i.name)).not.toContain('wide.png');
    await expect(s.thumbnail(wide.id)).rejects.toThrow(/not in project/);
    await s.close();
  });
});

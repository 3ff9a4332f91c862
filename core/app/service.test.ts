// AppService pieces not covered by the project, tiles and serve tests: app info, the folder browser,
// dialogs on a host without them, and argument checks.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from './service.js';

let root: string;
let service: AppService;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-service-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await mkdir(join(root, 'b-dir'));
  await mkdir(join(root, 'A-dir'));
  await mkdir(join(root, '.hidden-dir'));
  await writeFile(join(root, 'z.png'), 'x');
  await writeFile(join(root, 'a.txt'), 'hello');
  await writeFile(join(root, '.dotfile'), 'x');
  service = new AppService({ host: 'serve', version: '9.9.9', urls: rootAssetUrls, homeDir: root });
});

afterAll(async () => {
  await service.close();
  await rm(root, { recursive: true, force: true });
});

describe('AppService', () => {
  it('describes the host', async () => {
    expect(await service.appInfo()).toEqual({ version: '9.9.9', host: 'serve', platform: process.platform, nativeDialogs: false });
  });

  it('lists the home folder by default: folders first, sorted, no hidden entries', async () => {
    const listing = await service.listDirectory(null);
    expect(listing.path).toBe(root);
    expect(listing.parent).toBe(join(root, '..'));
    expect(listing.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:A-dir', 'dir:b-dir', 'file:a.txt', 'file:z.png']);
    expect(listing.entries.find((e) => e.name === 'a.txt')?.bytes).toBe(5);
    expect((await service.listDirectory('/')).parent).toBeNull();
    await expect(service.listDirectory(join(root, 'nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.listDirectory(join(root, 'a.txt'))).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(service.listDirectory('relative')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('has no native dialogs on the serve host, and checks arguments', async () => {
    await expect(service.showOpenDialog('images')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(service.importPaths(['/x'])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('No project is open'),
    });
    await expect(service.createProject(42 as unknown as string)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(service.cancelJob('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await service.currentProject()).toBeNull();
  });
});

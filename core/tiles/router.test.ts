// The asset router both hosts use: valid asset paths answer; traversal and anything that is not an image
// of the open project is refused (400/404) and never reaches the file system.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../app/service.js';
import { imageIdFor } from '../project/image-id.js';
import { routeAssetRequest } from './router.js';

let root: string;
let service: AppService;
let id: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-router-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 250, g: 250, b: 250 } } })
    .png()
    .toFile(join(root, 'a.png'));
  service = new AppService({ host: 'electron', version: 'test', urls: rootAssetUrls, homeDir: root });
  await service.createProject(join(root, 'proj'));
  const report = await service.importPaths([join(root, 'a.png')]);
  id = report.added[0].id;
});

afterAll(async () => {
  await service.close();
  await rm(root, { recursive: true, force: true });
});

describe('routeAssetRequest', () => {
  it('serves tiles, thumbnails and overlay tiles of the open project', async () => {
    const tile = await routeAssetRequest(service, `/tiles/${id}/9/0_0.jpeg`);
    expect(tile.status).toBe(200);
    expect(tile.headers['Content-Type']).toBe('image/jpeg');
    expect((await sharp(tile.body as Uint8Array).metadata()).width).toBe(256);
    expect((await routeAssetRequest(service, `/thumbs/${id}.jpg`)).status).toBe(200);
    const overlay = await routeAssetRequest(service, `/overlays/${id}/tissue-mask/8/0_0.png`);
    expect(overlay.status).toBe(200);
    expect(overlay.headers['Content-Type']).toBe('image/png');
    const listed = await service.overlays(id);
    expect(listed).toEqual([
      {
        id: 'tissue-mask',
        imageId: id,
        name: 'Tissue mask',
        tileUrl: `/overlays/${id}/tissue-mask/{level}/{x}_{y}.png`,
        legend: [{ label: 'Tissue', color: '#00c853' }],
        defaultOpacity: 0.4,
      },
    ]);
  });

  it.each([
    '/tiles/../../etc/passwd',
    '/tiles/{id}/../../../etc/passwd',
    '/tiles/%2e%2e/%2e%2e/etc/passwd',
    '/tiles/%2E%2E%2Fetc%2Fpasswd/9/0_0.jpeg',
    `/thumbs/..%2f..%2fproject.json`,
    '/thumbs/%2e%2e%5cproject.json',
    '/tiles/..\\..\\windows\\win.ini',
    '/thumbs/\0.jpg',
    `/tiles/${'0'.repeat(16)}/9/0_0.jpeg\0.png`,
    '//etc/passwd',
    '/tiles//etc/passwd/9/0_0.jpeg',
    '/tiles/{id}/9/0_0.jpeg/..',
    '/tiles/{id}/9/-1_0.jpeg',
    '/tiles/{id}/9/0_0.png',
    '/tiles/{ID}/9/0_0.jpeg',
    '/overlays/{id}/../9/0_0.png',
    '/overlays/{id}/Tissue-Mask/9/0_0.png',
    '/tiles/C:/Windows/9/0_0.jpeg',
    '/etc/passwd',
    '/project.json',
    'tiles/x',
    '',
    '/tiles/{id}/9/0_0.jpeg?x=1',
    '/tiles/{id}/9/0_0.jpeg#x',
    ' /tiles/{id}/9/0_0.jpeg',
    '/tiles/{id}/09999999/0_0.jpeg',
  ])('refuses %j', async (template) => {
    const path = template.replace('{id}', id).replace('{ID}', id.toUpperCase());
    const r = await routeAssetRequest(service, path);
    expect([400, 404]).toContain(r.status);
    expect(r.headers['Content-Type']).toMatch(/^text\/plain/);
  });

  it('answers 404 for images, levels, tiles and overlays that do not exist', async () => {
    expect((await routeAssetRequest(service, `/tiles/${imageIdFor('/nope.png')}/9/0_0.jpeg`)).status).toBe(404);
    expect((await routeAssetRequest(service, `/thumbs/${imageIdFor('/nope.png')}.jpg`)).status).toBe(404);
    expect((await routeAssetRequest(service, `/tiles/${id}/10/0_0.jpeg`)).status).toBe(404);
    expect((await routeAssetRequest(service, `/tiles/${id}/9/2_0.jpeg`)).status).toBe(404);
    expect((await routeAssetRequest(service, `/overlays/${id}/heatmap/9/0_0.png`)).status).toBe(404);
  });
});

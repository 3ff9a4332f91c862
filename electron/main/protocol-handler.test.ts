// The dinoscope:// handler against a real renderer folder, a real project and the real asset router:
// traversal attempts of every shape are refused, and every response carries the CSP.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../core/app/service.js';
import { routeAssetRequest } from '../../core/tiles/router.js';
import { assetsOrigin, contentSecurityPolicy } from './csp.js';
import { createProtocolHandler, safeSegments, type ProtocolHandler, type ProtocolResponse } from './protocol-handler.js';

let dir: string;
let root: string;
let service: AppService;
let handle: ProtocolHandler;
let imageId: string;

const body = (r: ProtocolResponse): string =>
  typeof r.body === 'string' ? r.body : Buffer.from(r.body ?? new Uint8Array()).toString('utf8');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-protocol-'));
  process.env.DINOSCOPE_HOME = path.join(dir, 'home');
  root = path.join(dir, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Dinoscope</title>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1);');
  // Secrets beside the renderer folder, and links that point at them from inside it.
  await writeFile(path.join(dir, 'secret.txt'), 'top secret');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'link-to-secret.txt'));
  await symlink(dir, path.join(root, 'link-to-parent'));
  await writeFile(path.join(dir, 'renderer-evil.txt'), 'sibling with the same prefix');

  const slide = path.join(dir, 'slide.png');
  await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toFile(slide);
  service = new AppService({
    host: 'electron',
    version: '0.0.0-test',
    urls: {
      tile: (id) => assetsOrigin + rootAssetUrls.tile(id),
      thumbnail: (id) => assetsOrigin + rootAssetUrls.thumbnail(id),
      overlay: (id, o) => assetsOrigin + rootAssetUrls.overlay(id, o),
    },
    homeDir: dir,
  });
  await service.createProject(path.join(dir, 'project'), 'protocol test');
  const report = await service.importPaths([slide]);
  imageId = report.added[0].id;
  handle = createProtocolHandler({ rendererRoot: root, routeAsset: (p) => routeAssetRequest(service, p) });
});

afterAll(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('dinoscope://app', () => {
  it('serves the renderer with a strict CSP and the right type', async () => {
    const index = await handle('dinoscope://app/');
    expect(index.status).toBe(200);
    expect(index.headers['Content-Type']).toMatch(/^text\/html/);
    expect(body(index)).toContain('<title>Dinoscope</title>');
    expect(index.headers['Content-Security-Policy']).toBe(contentSecurityPolicy);
    for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"])
      expect(contentSecurityPolicy).toContain(d);
    expect(contentSecurityPolicy).not.toContain('unsafe-eval');
    const js = await handle('dinoscope://app/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['Content-Type']).toMatch(/^text\/javascript/);
    expect(body(js)).toBe('console.log(1);');
    const head = await handle('dinoscope://app/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it.each([
    'dinoscope://app/../../etc/passwd',
    'dinoscope://app/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    'dinoscope://app/%2e%2e/secret.txt',
    'dinoscope://app/..%2fsecret.txt',
    'dinoscope://app/..%5csecret.txt',
    'dinoscope://app/..%5c..%5cetc%5cpasswd',
    'dinoscope://app//etc/passwd',
    'dinoscope://app/%2fetc%2fpasswd',
    'dinoscope://app/C:%5cWindows%5cwin.ini',
    'dinoscope://app/c:/Windows/win.ini',
    'dinoscope://app/index.html%00.png',
    'dinoscope://app/%E0%A4%A',
    'dinoscope://app/link-to-secret.txt',
    'dinoscope://app/link-to-parent/secret.txt',
    'dinoscope://app/../renderer-evil.txt',
  ])('refuses %s', async (url) => {
    const res = await handle(url);
    expect([400, 403, 404]).toContain(res.status);
    expect(body(res)).not.toContain('top secret');
    expect(body(res)).not.toContain('root:');
    expect(body(res)).not.toContain('sibling');
    expect(res.headers['Content-Security-Policy']).toBe(contentSecurityPolicy);
  });

  it('refuses symlinks leading out of the folder as forbidden, not merely missing', async () => {
    expect((await handle('dinoscope://app/link-to-secret.txt')).status).toBe(403);
    expect((await handle('dinoscope://app/link-to-parent/secret.txt')).status).toBe(403);
  });

  it('answers 404 for other hosts and missing files, 405 for writes', async () => {
    expect((await handle('dinoscope://evil/index.html')).status).toBe(404);
    expect((await handle('dinoscope://app/nope.js')).status).toBe(404);
    expect((await handle('dinoscope://app/assets')).status).toBe(404);
    expect((await handle('dinoscope://app/index.html', 'POST')).status).toBe(405);
    expect((await handle('not a url')).status).toBe(400);
  });

  it('splits paths into safe segments', () => {
    expect(safeSegments('/assets/app.js')).toEqual(['assets', 'app.js']);
    expect(safeSegments('/a%20b/c.js')).toEqual(['a b', 'c.js']);
    expect(safeSegments('/%2e%2e/x')).toBeNull();
    expect(safeSegments('/a%2fb')).toBeNull();
  });
});

describe('dinoscope://assets', () => {
  it('serves a tile and a thumbnail of a project image, with the CSP and CORS for the app origin', async () => {
    const src = await service.tileSource(imageId);
    const url = src.tileUrl.replace('{level}', String(src.maxLevel)).replace('{x}', '0').replace('{y}', '0');
    expect(url.startsWith('dinoscope://assets/tiles/')).toBe(true);
    const tile = await handle(url);
    expect(tile.status).toBe(200);
    expect(tile.headers['Content-Type']).toBe('image/jpeg');
    expect(tile.headers['Content-Security-Policy']).toBe(contentSecurityPolicy);
    expect(tile.headers['Access-Control-Allow-Origin']).toBe('dinoscope://app');
    const meta = await sharp(tile.body as Uint8Array).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    const thumb = await handle(await service.thumbnailUrl(imageId));
    expect(thumb.status).toBe(200);
    expect(thumb.headers['Content-Type']).toBe('image/jpeg');
  });

  it.each([
    'dinoscope://assets/tiles/0123456789abcdef/0/0_0.jpeg',
    'dinoscope://assets/thumbs/0123456789abcdef.jpg',
    'dinoscope://assets/tiles/..%2f..%2fetc%2fpasswd/0/0_0.jpeg',
    'dinoscope://assets/tiles/../../etc/passwd',
    'dinoscope://assets/tiles/%2e%2e%5c%2e%2e%5cetc/0/0_0.jpeg',
    'dinoscope://assets/thumbs/%2Fetc%2Fpasswd',
    'dinoscope://assets/etc/passwd',
    'dinoscope://assets/index.html',
  ])('refuses %s', async (url) => {
    const res = await handle(url);
    expect([400, 403, 404]).toContain(res.status);
    expect(body(res)).not.toContain('root:');
    expect(res.headers['Content-Security-Policy']).toBe(contentSecurityPolicy);
  });
});

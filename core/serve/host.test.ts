// The serve host over real HTTP on 127.0.0.1: token, cookie, Host and Origin checks, the API, events over
// a WebSocket, uploads, tiles and the static renderer.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ImportReport, ProjectSummary, TileSourceInfo } from '../common/api.js';
import { apiCall, type CallReply, httpRequest, type Reply, type RequestInit } from './fixtures/http.js';
import { startServeHost, type ServeHost } from './host.js';

let host: ServeHost;
let root: string;
let png: Buffer;
const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvw';

const http = (path: string, init?: RequestInit): Promise<Reply> => httpRequest(host.port, path, init);

const auth = { Authorization: `Bearer ${TOKEN}` };

const call = <T>(method: string, args: unknown[]): Promise<CallReply<T>> => apiCall<T>(host.port, TOKEN, method, args);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-serve-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await mkdir(join(root, 'renderer'));
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>Dinoscope test</title>');
  await writeFile(join(root, 'renderer', 'app.js'), 'console.log(1);');
  png = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 80, b: 120 } } })
    .png()
    .toBuffer();
  host = await startServeHost({
    projectPath: join(root, 'proj'),
    port: 0,
    host: '127.0.0.1',
    rendererDir: join(root, 'renderer'),
    log: () => undefined,
    token: TOKEN,
  });
});

afterAll(async () => {
  await host?.close();
  await rm(root, { recursive: true, force: true });
});

describe('serve host', () => {
  it('prints a loopback URL with the token, and explains a port in use', async () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${TOKEN}`);
    await expect(startServeHost({ port: host.port, host: '127.0.0.1', rendererDir: root, log: () => undefined })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('is in use'),
    });
  });

  it('refuses requests without a token or with a wrong one (401)', async () => {
    expect((await http('/')).status).toBe(401);
    expect((await http('/api/call/appInfo', { method: 'POST', body: '[]' })).status).toBe(401);
    expect((await http('/', { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await http('/?token=wrong')).status).toBe(401);
    expect((await http('/', { headers: { Cookie: 'dinoscope_token=wrong' } })).status).toBe(401);
  });

  it('turns ?token= into an HttpOnly SameSite=Strict cookie and redirects to /', async () => {
    const first = await http(`/?token=${TOKEN}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`dinoscope_token=${TOKEN}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await http('/', { headers: { Cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('Dinoscope test');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    const js = await http('/app.js', { headers: { Cookie: cookie.split(';')[0] } });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('refuses a foreign Origin and a foreign Host (403), even with the token', async () => {
    expect((await http('/', { headers: { ...auth, Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await http('/', { headers: { ...auth, Origin: `http://127.0.0.1:${host.port + 1}` } })).status).toBe(403);
    expect((await http('/', { headers: { ...auth, Origin: `http://127.0.0.1:${host.port}` } })).status).toBe(200);
    expect((await http('/', { headers: { ...auth, Host: `evil.example:${host.port}` } })).status).toBe(403);
    expect((await http('/', { headers: { ...auth, Host: `localhost:${host.port}` } })).status).toBe(200);
    expect((await http('/', { headers: { ...auth, Host: `127.0.0.1:1` } })).status).toBe(403);
  });

  it('answers API calls with {ok} and errors with the envelope', async () => {
    const info = await call<{ host: string }>('appInfo', []);
    expect(info.status).toBe(200);
    expect(info.json.ok?.host).toBe('serve');
    const unknown = await call('readFileSync', ['/etc/passwd']);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error?.code).toBe('NOT_FOUND');
    const proto = await call('constructor', []);
    expect(proto.json.error?.code).toBe('NOT_FOUND');
    const bad = await call('importPaths', ['relative/path']);
    expect(bad.status).toBe(400);
    expect(bad.json.error?.code).toBe('BAD_INPUT');
    const notArray = await http('/api/call/appInfo', { method: 'POST', headers: auth, body: '{"a":1}' });
    expect(JSON.parse(notArray.body.toString()).error.code).toBe('BAD_INPUT');
    const form = await http('/api/call/appInfo', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(form.status).toBe(415);
  });

  it('refuses WebSocket upgrades without the token and pushes events with it', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    const foreign = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events?token=${TOKEN}`, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(foreign).toBe(403);

    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events`, { headers: { Cookie: `dinoscope_token=${TOKEN}` } });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const events: { event: string; payload: unknown }[] = [];
    ws.on('message', (m: Buffer) => events.push(JSON.parse(m.toString())));
    await writeFile(join(root, 'evented.png'), png);
    await call('importPaths', [[join(root, 'evented.png')]]);
    await new Promise((r) => setTimeout(r, 200));
    ws.close();
    expect(
      events.some((e) => e.event === 'projectChanged' && (e.payload as ProjectSummary).images.some((i) => i.name === 'evented.png')),
    ).toBe(true);
    expect(events.some((e) => e.event === 'jobProgress')).toBe(true);
  });

  it('stores uploads under images/ with a sanitised name and imports them; tiles are then served', async () => {
    const r = await http('/api/upload?name=' + encodeURIComponent('../../up\0load.png'), { method: 'POST', headers: auth, body: png });
    expect(r.status).toBe(200);
    const report = JSON.parse(r.body.toString()).ok as ImportReport;
    expect(report.added).toHaveLength(1);
    const entry = report.added[0];
    expect(entry.path).toBe(join(root, 'proj', 'images', 'up_load.png'));
    expect(entry.status).toBe('ok');
    expect(await readFile(entry.path)).toEqual(png);
    const again = await http('/api/upload?name=up_load.png', { method: 'POST', headers: auth, body: png });
    expect((JSON.parse(again.body.toString()).ok as ImportReport).added[0].path).toBe(join(root, 'proj', 'images', 'up_load (1).png'));

    const src = (await call<TileSourceInfo>('tileSource', [entry.id])).json.ok!;
    expect(src.maxLevel).toBe(10);
    const tile = await http(src.tileUrl.replace('{level}', '10').replace('{x}', '0').replace('{y}', '0'), { headers: auth });
    expect(tile.status).toBe(200);
    expect(tile.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(tile.body).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    expect((await http(`/thumbs/${entry.id}.jpg`, { headers: auth })).status).toBe(200);
    expect((await http(`/tiles/${entry.id}/10/0_0.jpeg`)).status).toBe(401);
    expect((await http(`/tiles/%2e%2e/10/0_0.jpeg`, { headers: auth })).status).toBe(400);
    // A client id (the browser's own analysis state) is checked: a well-formed one is served, a malformed one refused.
    expect((await http(`/tiles/${entry.id}/10/0_0.jpeg?client=browser-0123456789`, { headers: auth })).status).toBe(200);
    const bad = await http(`/overlays/${entry.id}/similarity/10/0_0.png?client=x`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toMatch(/client id must be 8 to 64 letters, digits/);
  });

  it('takes the client id of an API call from its header, and refuses a malformed one', async () => {
    const call = (client: string): Promise<Reply> =>
      http('/api/call/appInfo', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', 'X-Dinoscope-Client': client },
        body: '[]',
      });
    expect((await call('browser-0123456789')).status).toBe(200);
    const bad = await call('no spaces please');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error.message).toMatch(/^The x-dinoscope-client client id must be 8 to 64 letters/);
  });
});

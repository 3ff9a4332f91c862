// The serve host's two tokens over real HTTP: every API method carries a read/write mark; every write
// method (and the upload route) is refused for the viewer token with 403 and a plain sentence, and changes
// nothing; every read method passes the role check; both tokens receive the events; each token's link
// keeps its own cookie. Iterates the method table, so a method added to the contract is checked too.
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { apiMethods, type ApiMethod, type JobProgress, type ProjectSummary } from '../common/api.js';
import { apiAccess } from '../common/api-schema.js';
import { dispatch } from '../app/dispatch.js';
import { apiCall, type CallReply, httpRequest, type Reply, type RequestInit } from './fixtures/http.js';
import { startServeHost, type ServeHost } from './host.js';

const EDITOR = 'editor-token-0123456789abcdefghijklmnopqrstuv';
const VIEWER = 'viewer-token-0123456789abcdefghijklmnopqrstuv';

let host: ServeHost;
let root: string;
let imageId: string;

const http = (path: string, init?: RequestInit): Promise<Reply> => httpRequest(host.port, path, init);

const call = <T>(token: string, method: string, args: unknown[]): Promise<CallReply<T>> => apiCall<T>(host.port, token, method, args);

/** Arguments a write method would act on if it were let through (the check comes first, so any fit). */
function writeArgs(method: ApiMethod, slides: string): unknown[] {
  const byMethod: Partial<Record<ApiMethod, unknown[]>> = {
    createProject: [join(root, 'other')],
    openProject: [join(root, 'other')],
    importPaths: [slides],
    removeImage: [imageId],
    listDirectory: [root],
    startDemo: [{ dir: join(root, 'demo'), tiny: true }],
  };
  return byMethod[method] ?? [];
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-roles-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await mkdir(join(root, 'renderer'));
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>Dinoscope roles</title>');
  await mkdir(join(root, 'slides'));
  const png = (r: number) => sharp({ create: { width: 300, height: 200, channels: 3, background: { r, g: 90, b: 140 } } }).png();
  await png(200).toFile(join(root, 'slides', 'a.png'));
  await mkdir(join(root, 'more'));
  await png(40).toFile(join(root, 'more', 'b.png'));
  host = await startServeHost({
    projectPath: join(root, 'proj'),
    port: 0,
    host: '127.0.0.1',
    rendererDir: join(root, 'renderer'),
    log: () => undefined,
    token: EDITOR,
    viewerToken: VIEWER,
  });
  const report = await call<{ added: { id: string }[] }>(EDITOR, 'importPaths', [[join(root, 'slides', 'a.png')]]);
  imageId = report.json.ok!.added[0].id;
});

afterAll(async () => {
  await host?.close();
  await rm(root, { recursive: true, force: true });
});

describe('serve host roles', () => {
  it('marks every method of the contract read or write', () => {
    for (const method of Object.keys(apiMethods))
      expect(['read', 'write'], method).toContain((apiAccess as Record<string, string>)[method]);
    expect(Object.keys(apiAccess).sort()).toEqual(Object.keys(apiMethods).sort());
  });

  it('prints two links, and refuses the same token for both', async () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${EDITOR}`);
    expect(host.viewerUrl).toBe(`http://127.0.0.1:${host.port}/?token=${VIEWER}`);
    await expect(
      startServeHost({ port: 0, host: '127.0.0.1', rendererDir: root, log: () => undefined, token: EDITOR, viewerToken: EDITOR }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('must differ') });
  });

  it('refuses every write method for the viewer with 403 and a plain sentence, and changes nothing', async () => {
    const writes = (Object.keys(apiMethods) as ApiMethod[]).filter((m) => apiAccess[m] !== 'read');
    expect(writes.length).toBeGreaterThan(20);
    const before = (await call<ProjectSummary>(EDITOR, 'currentProject', [])).json.ok!;
    for (const method of writes) {
      const r = await call(VIEWER, method, writeArgs(method, join(root, 'more')));
      expect(r.status, method).toBe(403);
      expect(r.json.error?.code, method).toBe('FORBIDDEN');
      expect(r.json.error?.message, method).toContain('read-only viewer');
      expect(r.json.error?.message, method).toContain('editor link');
    }
    const after = (await call<ProjectSummary>(EDITOR, 'currentProject', [])).json.ok!;
    expect(after.path).toBe(before.path);
    expect(after.images.map((i) => i.id)).toEqual([imageId]);
    expect(await readdir(root)).not.toContain('other');
    expect(await readdir(root)).not.toContain('demo');
  });

  it('lets the viewer through to every read method (the schema, not the role, answers bad arguments)', async () => {
    const reads = (Object.keys(apiMethods) as ApiMethod[]).filter((m) => apiAccess[m] === 'read');
    for (const method of reads) {
      const r = await call(VIEWER, method, []);
      expect(r.status, method).not.toBe(403);
      expect(r.status, method).not.toBe(401);
    }
    const info = await call<{ role?: string; host: string }>(VIEWER, 'appInfo', []);
    expect(info.json.ok).toMatchObject({ host: 'serve', role: 'viewer' });
    expect((await call<{ role?: string }>(EDITOR, 'appInfo', [])).json.ok?.role).toBe('editor');
    const project = await call<ProjectSummary>(VIEWER, 'currentProject', []);
    expect(project.json.ok?.images.map((i) => i.name)).toEqual(['a.png']);
    const source = await call<{ tileUrl: string }>(VIEWER, 'tileSource', [imageId]);
    expect(source.status).toBe(200);
    const tile = await http(source.json.ok!.tileUrl.replace('{level}', '0').replace('{x}', '0').replace('{y}', '0'), {
      headers: { Authorization: `Bearer ${VIEWER}` },
    });
    expect(tile.status).toBe(200);
    expect(tile.headers['content-type']).toBe('image/jpeg');
    expect((await call<JobProgress[]>(VIEWER, 'runningJobs', [])).json.ok).toEqual([]);
  });

  it('lets the editor call what the viewer may not', async () => {
    const r = await call<ProjectSummary>(EDITOR, 'listDirectory', [root]);
    expect(r.status).toBe(200);
  });

  it('refuses an upload from the viewer (403) without storing it', async () => {
    const r = await http('/api/upload?name=up.png', {
      method: 'POST',
      headers: { Authorization: `Bearer ${VIEWER}`, 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(1000, 7),
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).error.message).toContain('read-only viewer');
    expect(await readdir(join(root, 'proj', 'images')).catch(() => [])).not.toContain('up.png');
  });

  it('keeps the token each link gave as the cookie, and the viewer cookie stays read-only', async () => {
    const viewer = await http(`/?token=${VIEWER}`);
    expect(viewer.status).toBe(302);
    const cookie = String(viewer.headers['set-cookie']).split(';')[0];
    expect(cookie).toBe(`dinoscope_token=${VIEWER}`);
    const write = await http('/api/call/removeImage', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify([imageId]),
    });
    expect(write.status).toBe(403);
    const editor = await http(`/?token=${EDITOR}`, { headers: { Cookie: cookie } });
    expect(String(editor.headers['set-cookie'])).toContain(`dinoscope_token=${EDITOR}`);
    // A wrong ?token= beside a valid cookie is not made the cookie (that would lock the browser out).
    const wrong = await http('/?token=wrong', { headers: { Cookie: cookie } });
    expect(wrong.status).toBe(302);
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('sends the events of work the editor starts to a viewer and an editor alike', async () => {
    const listen = (token: string): Promise<{ ws: WebSocket; events: { event: string; payload: JobProgress }[] }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events`, { headers: { Authorization: `Bearer ${token}` } });
        const events: { event: string; payload: JobProgress }[] = [];
        ws.on('message', (m) => events.push(JSON.parse(String(m))));
        ws.once('open', () => resolve({ ws, events }));
        ws.once('error', reject);
      });
    const viewer = await listen(VIEWER);
    const editor = await listen(EDITOR);
    try {
      const r = await call(EDITOR, 'importPaths', [[join(root, 'more', 'b.png')]]);
      expect(r.status).toBe(200);
      for (const { events } of [viewer, editor]) {
        await expect.poll(() => events.some((e) => e.event === 'projectChanged'), { timeout: 10_000 }).toBe(true);
        await expect
          .poll(() => events.some((e) => e.event === 'jobProgress' && e.payload.kind === 'import'), { timeout: 10_000 })
          .toBe(true);
      }
    } finally {
      viewer.ws.close();
      editor.ws.close();
    }
  });

  it('binds every interface only when asked, warns, names the addresses, and checks both tokens there', async () => {
    const lines: string[] = [];
    const wide = await startServeHost({
      port: 0,
      host: '0.0.0.0',
      rendererDir: join(root, 'renderer'),
      log: (l) => lines.push(l),
      token: EDITOR,
      viewerToken: VIEWER,
    });
    try {
      expect(lines.join('\n')).toMatch(/WARNING: listening on 0\.0\.0\.0, not localhost: .*a token gets its access/);
      // Another machine's request: a Host header that is this machine's address (an IP literal).
      const address = /open http:\/\/([^/]+)\//.exec(lines.join('\n'))?.[1] ?? `127.0.0.1:${wide.port}`;
      const asked = (token: string, method: string): Promise<Reply> =>
        new Promise((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: wide.port,
              path: `/api/call/${method}`,
              method: 'POST',
              headers: { Host: address, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            },
          );
          req.on('error', reject);
          req.end('[]');
        });
      const info = await asked(VIEWER, 'appInfo');
      expect(info.status).toBe(200);
      expect(JSON.parse(info.body.toString()).ok.role).toBe('viewer');
      expect((await asked(VIEWER, 'startDemo')).status).toBe(403);
      expect((await asked('wrong', 'appInfo')).status).toBe(401);
    } finally {
      await wide.close();
    }
  });

  it('leaves the desktop path (no role) as it was: every method open, appInfo without a role', async () => {
    const info = (await dispatch(host.service, 'appInfo', [])) as { role?: string };
    expect(info.role).toBeUndefined();
    await expect(dispatch(host.service, 'runningJobs', [], 'viewer')).resolves.toEqual([]);
    await expect(dispatch(host.service, 'cancelJob', ['x'], 'viewer')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(dispatch(host.service, 'cancelJob', ['x'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

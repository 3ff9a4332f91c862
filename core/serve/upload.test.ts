// Uploads and API paths a browser (or anyone holding the token) can get wrong, over real HTTP on
// 127.0.0.1: concurrent uploads of one name each keep their own file, over-long names and malformed
// percent-encoding are refused with 400 and a plain message, never a 500.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../common/api.js';
import { httpRequest, type Reply } from './fixtures/http.js';
import { startServeHost, type ServeHost } from './host.js';

let host: ServeHost;
let root: string;
const TOKEN = 'upload-token-0123456789abcdefghijklmnopqrstuv';
const auth = { Authorization: `Bearer ${TOKEN}` };

const http = (path: string, init: { method?: string; body?: Buffer | string } = {}): Promise<Reply> =>
  httpRequest(host.port, path, { method: init.method ?? 'POST', headers: auth, body: init.body });

const solid = (r: number, g: number, b: number): Promise<Buffer> =>
  sharp({ create: { width: 32, height: 24, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
const imagesDir = (): string => join(root, 'proj', 'images');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-upload-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await mkdir(join(root, 'renderer'));
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
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

describe('uploads', () => {
  it('never overwrites: 16 concurrent uploads of one name are 16 files, each holding its own bytes', async () => {
    const bodies = await Promise.all(Array.from({ length: 16 }, (_, i) => solid(i * 16, 255 - i * 16, 7 * i)));
    const replies = await Promise.all(bodies.map((body) => http('/api/upload?name=same.png', { body })));
    expect(replies.map((r) => r.status)).toEqual(Array(16).fill(200));
    const paths = replies.map((r) => (JSON.parse(r.body.toString()) as { ok: ImportReport }).ok.added[0].path);
    expect(new Set(paths).size).toBe(16);
    expect(paths).toContain(join(imagesDir(), 'same.png'));
    expect(paths).toContain(join(imagesDir(), 'same (15).png'));
    for (const [i, p] of paths.entries()) expect((await readFile(p)).equals(bodies[i])).toBe(true);
    const stored = (await readdir(imagesDir())).filter((n) => n.startsWith('same'));
    expect(stored).toHaveLength(16);
    expect((await readdir(imagesDir())).filter((n) => n.startsWith('.'))).toEqual([]); // no temp files left
  });

  it('refuses a name over 255 bytes with 400 and says what to do; a 255-byte name is stored whole', async () => {
    const long = 'é'.repeat(130) + '.png'; // 264 bytes in UTF-8, 134 characters
    const r = await http('/api/upload?name=' + encodeURIComponent(long), { body: await solid(1, 2, 3) });
    expect(r.status).toBe(400);
    const error = (JSON.parse(r.body.toString()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toMatch(/264 bytes long.*at most 255 bytes: rename the file/);

    const fits = 'a'.repeat(251) + '.png';
    const ok = await http('/api/upload?name=' + fits, { body: await solid(4, 5, 6) });
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body.toString()) as { ok: ImportReport }).ok.added[0].path).toBe(join(imagesDir(), fits));
    // The same name again: the suffix makes room by shortening the stem, not by exceeding 255 bytes.
    const again = await http('/api/upload?name=' + fits, { body: await solid(7, 8, 9) });
    expect(again.status).toBe(200);
    const second = (JSON.parse(again.body.toString()) as { ok: ImportReport }).ok.added[0];
    expect(second.path).toBe(join(imagesDir(), 'a'.repeat(247) + ' (1).png'));
    expect(second.status).toBe('ok');
  });
});

describe('API paths', () => {
  it('answers malformed percent-encoding in a method name with 400, not 500', async () => {
    for (const path of ['/api/call/%E0%A4%A', '/api/call/app%ZZInfo', '/api/call/%C0%AF']) {
      const r = await http(path, { body: '[]' });
      expect(r.status, path).toBe(400);
      const error = (JSON.parse(r.body.toString()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toContain('not valid percent-encoding');
    }
    expect((await http('/api/call/app%49nfo', { body: '[]' })).status).toBe(200); // well-formed encodings still work
  });
});

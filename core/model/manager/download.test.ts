// Downloads against a real node:http server on 127.0.0.1: ranges, a transfer cut off mid-way and resumed,
// checksums (given and server-stated), redirects, gated answers and cancellation.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { download } from './download.js';
import { networkError } from './network-error.js';

const body = randomBytes(3 * 1024 * 1024 + 123);
const sha = createHash('sha256').update(body).digest('hex');
let server: Server;
let port = 0;
let dir: string;
/** Requests seen: path and Range/Authorization headers. */
const seen: { path: string; range?: string; auth?: string; host?: string }[] = [];
/** Paths whose next response is cut after this many bytes. */
const cutAfter = new Map<string, number>();

function serveFile(req: IncomingMessage, res: ServerResponse, slow: boolean): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const from = m && req.headers['if-range'] === '"v1"' ? Number(m[1]) : 0;
  const headers: Record<string, string | number> = { etag: '"v1"', 'content-length': body.length - from };
  if (from > 0) headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
  res.writeHead(from > 0 ? 206 : 200, headers);
  const cut = cutAfter.get(req.url ?? '');
  if (cut !== undefined) {
    cutAfter.delete(req.url ?? '');
    res.write(body.subarray(from, from + cut), () => res.socket?.destroy());
    return;
  }
  if (!slow) {
    res.end(body.subarray(from));
    return;
  }
  let at = from;
  const step = (): void => {
    if (res.destroyed) return;
    if (at >= body.length) return void res.end();
    res.write(body.subarray(at, at + 64 * 1024));
    at += 64 * 1024;
    setTimeout(step, 20);
  };
  step();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-download-'));
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', range: req.headers.range, auth: req.headers.authorization, host: req.headers.host });
    const url = req.url ?? '';
    if (url === '/model.safetensors' || url === '/cut.bin' || url === '/cancel.bin') return serveFile(req, res, url === '/cancel.bin');
    if (url === '/lfs') {
      // Like huggingface.co/…/resolve/main/model.safetensors: a redirect to another host stating the sha256.
      res.writeHead(302, { location: `http://localhost:${port}/cdn/model.safetensors`, 'x-linked-etag': `"${sha}"` });
      return void res.end();
    }
    if (url === '/lfs-wrong') {
      res.writeHead(302, { location: `/model.safetensors`, 'x-linked-etag': `"${'0'.repeat(64)}"` });
      return void res.end();
    }
    if (url === '/cdn/model.safetensors') return serveFile(req, res, false);
    if (url === '/gated') {
      res.writeHead(401);
      return void res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const url = (p: string): string => `http://127.0.0.1:${port}${p}`;

describe('download', () => {
  it('downloads with progress and verifies a given sha256', async () => {
    const dest = join(dir, 'a.safetensors');
    const events: [number, number | null][] = [];
    const r = await download({
      url: url('/model.safetensors'),
      dest,
      sha256: sha,
      onProgress: (d, t) => events.push([d, t]),
      progressMs: 0,
    });
    expect(r).toMatchObject({ bytes: body.length, sha256: sha, resumed: false, verified: sha });
    expect((await readFile(dest)).equals(body)).toBe(true);
    expect(events.at(-1)).toEqual([body.length, body.length]);
    expect(events.length).toBeGreaterThan(1);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(existsSync(`${dest}.part.json`)).toBe(false);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    const dest = join(dir, 'b.safetensors');
    cutAfter.set('/cut.bin', 1_000_000);
    const first = await download({ url: url('/cut.bin'), dest, sha256: sha }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(DinoscopeError);
    expect((first as Error).message).toMatch(/broke off after \d+ .*try again to resume/);
    const partial = (await stat(`${dest}.part`)).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(body.length);
    seen.length = 0;
    const r = await download({ url: url('/cut.bin'), dest, sha256: sha });
    expect(seen[0].range).toBe(`bytes=${partial}-`);
    expect(r).toMatchObject({ resumed: true, bytes: body.length, sha256: sha });
    expect((await readFile(dest)).equals(body)).toBe(true);
  });

  it('fails clearly on a wrong checksum and deletes the download', async () => {
    const dest = join(dir, 'c.safetensors');
    const err = await download({ url: url('/model.safetensors'), dest, sha256: 'f'.repeat(64) }).catch((e: unknown) => e as DinoscopeError);
    expect(err).toBeInstanceOf(DinoscopeError);
    expect((err as DinoscopeError).code).toBe('CORRUPT');
    expect((err as DinoscopeError).message).toBe(
      `${url('/model.safetensors')}: checksum mismatch — expected sha256 ${'f'.repeat(64)}, got ${sha}; the download was deleted.`,
    );
    expect(existsSync(dest) || existsSync(`${dest}.part`)).toBe(false);
  });

  it('follows redirects, checks the sha256 the server states, and never sends a token to another host', async () => {
    const dest = join(dir, 'd.safetensors');
    seen.length = 0;
    const r = await download({ url: url('/lfs'), dest, headers: { Authorization: 'Bearer secret' } });
    expect(r.verified).toBe(sha);
    expect(seen.map((s) => [s.path, s.auth])).toEqual([
      ['/lfs', 'Bearer secret'],
      ['/cdn/model.safetensors', undefined],
    ]);
    await expect(download({ url: url('/lfs-wrong'), dest: join(dir, 'e.bin') })).rejects.toThrow(
      /checksum mismatch — expected sha256 0{64}/,
    );
  });

  it('says when a model is gated and when a file does not exist', async () => {
    await expect(download({ url: url('/gated'), dest: join(dir, 'g.bin') })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/HTTP 401 \(a gated model: accept its licence/),
    });
    await expect(download({ url: url('/nope'), dest: join(dir, 'n.bin') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(download({ url: 'ftp://x/y', dest: join(dir, 'f.bin') })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('says in plain words when the server cannot be reached, never a raw socket error', async () => {
    // A port nothing listens on: a real ECONNREFUSED.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const a = closed.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = (await download({ url: `http://127.0.0.1:${port}/m.safetensors`, dest: join(dir, 'r.bin') }).catch(
      (x: unknown) => x,
    )) as Error;
    expect(e.message).toBe(
      `http://127.0.0.1:${port}/m.safetensors: 127.0.0.1:${port} refused the connection: the server is down or the address is wrong; try again later, or download the file in a browser and add it with Models ▸ Import.`,
    );
    // What Node raises offline (tests never send DNS queries, so the error is built as Node builds it).
    const offline = Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND', hostname: 'huggingface.co' });
    const m = networkError('https://huggingface.co/x/resolve/main/model.safetensors', offline).message;
    expect(m).toContain('cannot find the server huggingface.co: this computer seems to be offline');
    expect(m).not.toMatch(/getaddrinfo|ENOTFOUND/);
  });

  it('cancels mid-transfer, keeps the partial file, and resumes later', async () => {
    const dest = join(dir, 'h.bin');
    const ac = new AbortController();
    const err = await download({
      url: url('/cancel.bin'),
      dest,
      signal: ac.signal,
      progressMs: 0,
      onProgress: (d) => d > 200_000 && ac.abort(),
    }).catch((e: unknown) => e as DinoscopeError);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect((await stat(`${dest}.part`)).size).toBeGreaterThan(0);
    const r = await download({ url: url('/cancel.bin'), dest, sha256: sha });
    expect(r.resumed).toBe(true);
    expect((await readFile(dest)).equals(body)).toBe(true);
  });
});

// Access-control rules of the serve host, case by case (the HTTP-level checks are in host.test.ts).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cookieValue, hostAllowed, originAllowed, tokenMatches } from './auth.js';
import { serveStatic } from './static.js';
import { safeFileName } from './upload.js';

describe('auth rules', () => {
  it('compares tokens exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
    expect(tokenMatches(null, 'abc')).toBe(false);
  });

  it('reads the cookie among others', () => {
    expect(cookieValue('a=1; dinoscope_token=xyz; b=2', 'dinoscope_token')).toBe('xyz');
    expect(cookieValue('xdinoscope_token=bad', 'dinoscope_token')).toBeNull();
    expect(cookieValue(undefined, 'dinoscope_token')).toBeNull();
  });

  it('accepts only our own host names on our port (DNS rebinding)', () => {
    expect(hostAllowed('127.0.0.1:8484', '127.0.0.1', 8484)).toBe(true);
    expect(hostAllowed('localhost:8484', '127.0.0.1', 8484)).toBe(true);
    expect(hostAllowed('[::1]:8484', '127.0.0.1', 8484)).toBe(true);
    expect(hostAllowed('LOCALHOST:8484', '127.0.0.1', 8484)).toBe(true);
    expect(hostAllowed('evil.example:8484', '127.0.0.1', 8484)).toBe(false);
    expect(hostAllowed('127.0.0.1.evil.example:8484', '127.0.0.1', 8484)).toBe(false);
    expect(hostAllowed('127.0.0.1:8485', '127.0.0.1', 8484)).toBe(false);
    expect(hostAllowed('127.0.0.1', '127.0.0.1', 8484)).toBe(false);
    expect(hostAllowed(undefined, '127.0.0.1', 8484)).toBe(false);
    expect(hostAllowed('192.168.1.5:8484', '127.0.0.1', 8484)).toBe(false);
    // A wildcard bind answers IP literals (LAN clients) but still no DNS names.
    expect(hostAllowed('192.168.1.5:8484', '0.0.0.0', 8484)).toBe(true);
    expect(hostAllowed('nas.local:8484', '0.0.0.0', 8484)).toBe(false);
    expect(hostAllowed('nas.local:8484', 'nas.local', 8484)).toBe(true);
  });

  it('accepts no Origin or exactly our own', () => {
    expect(originAllowed(undefined, '127.0.0.1:1')).toBe(true);
    expect(originAllowed('http://127.0.0.1:1', '127.0.0.1:1')).toBe(true);
    expect(originAllowed('https://127.0.0.1:1', '127.0.0.1:1')).toBe(false);
    expect(originAllowed('null', '127.0.0.1:1')).toBe(false);
    expect(originAllowed('http://localhost:1', '127.0.0.1:1')).toBe(false);
  });

  it('sanitises upload names', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\..\\boot.ini')).toBe('boot.ini');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('a\u0000b<c>.tif')).toBe('a_b_c_.tif');
    expect(safeFileName('CON.png')).toBe('_CON.png');
    expect(safeFileName('...')).toBe('upload');
    expect(safeFileName('slide 1.svs')).toBe('slide 1.svs');
  });
});

describe('static renderer files', () => {
  it('serves files with their MIME type, falls back to index.html, refuses traversal, explains a missing build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-static-'));
    try {
      const missing = await serveStatic(join(dir, 'renderer'), '/');
      expect(missing.status).toBe(503);
      expect(String(missing.body)).toContain('node scripts/build.mjs renderer');
      await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
      await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html>');
      await writeFile(join(dir, 'renderer', 'assets', 'a.css'), 'body{}');
      await writeFile(join(dir, 'secret.txt'), 'secret');
      expect((await serveStatic(join(dir, 'renderer'), '/assets/a.css')).type).toBe('text/css; charset=utf-8');
      expect((await serveStatic(join(dir, 'renderer'), '/viewer')).type).toBe('text/html; charset=utf-8');
      expect((await serveStatic(join(dir, 'renderer'), '/nope.js')).status).toBe(404);
      for (const bad of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%00', '/%zz']) {
        expect((await serveStatic(join(dir, 'renderer'), bad)).status, bad).toBe(400);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

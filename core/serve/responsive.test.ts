// The serve host never blocks on one request: while a file that takes long to decode is imported (a
// legal 4096 × 4096 single-LZW-tile TIFF whose thumbnail needs about a second of decoding), cheap API
// calls (timed from another thread) and tiles of other images are answered at once, over real HTTP. With a short read budget the
// same import is refused with a plain reason, and the host goes on reading other files.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport, TileSourceInfo } from '../common/api.js';
import { writeSlowTiff } from '../reader-pool/slow-fixture.js';
import { startServeHost, type ServeHost } from './host.js';

let root: string;

/** Wall-clock milliseconds comparable across threads. */
const now = (): number => performance.timeOrigin + performance.now();

/** A thread that calls appInfo one call after another (20 ms apart) until told to stop, then posts
 * each call's start time and latency. */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const now = () => performance.timeOrigin + performance.now();
const polls = [];
let stop = false;
parentPort.once('message', () => { stop = true; });
const call = () => new Promise((resolve) => {
  const at = now();
  const req = http.request({ host: '127.0.0.1', port: workerData.port, path: '/api/call/appInfo', method: 'POST', headers: { Authorization: 'Bearer ' + workerData.token } }, (res) => {
    res.resume();
    res.on('end', () => { polls.push({ at, ms: now() - at, status: res.statusCode }); resolve(); });
  });
  req.on('error', () => { polls.push({ at, ms: now() - at, status: 0 }); resolve(); });
  req.end('[]');
});
(async () => {
  while (!stop) {
    await call();
    await new Promise((r) => setTimeout(r, 20));
  }
  parentPort.postMessage(polls);
})();
`;
const TOKEN = 'responsive-token-0123456789abcdefghijklmnopq';

function post<T>(
  host: ServeHost,
  method: string,
  args: unknown[],
): Promise<{ status: number; ok?: T; error?: { code: string; message: string } }> {
  return get(host, `/api/call/${method}`, 'POST', JSON.stringify(args)).then((r) => ({
    status: r.status,
    ...(JSON.parse(r.body.toString()) as object),
  }));
}

function get(host: ServeHost, path: string, method = 'GET', body?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: host.port,
        path,
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startHost(name: string, readerBudgetMs?: number): Promise<ServeHost> {
  await mkdir(join(root, 'renderer'), { recursive: true });
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  return startServeHost({
    projectPath: join(root, name),
    port: 0,
    host: '127.0.0.1',
    rendererDir: join(root, 'renderer'),
    log: () => undefined,
    token: TOKEN,
    readerBudgetMs,
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-responsive-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await writeSlowTiff(join(root, 'slow.tif'));
  await sharp({ create: { width: 700, height: 500, channels: 3, background: { r: 30, g: 90, b: 200 } } })
    .png()
    .toFile(join(root, 'quick.png'));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('serve host under a slow import', () => {
  it('answers other API calls within 200 ms, and tiles of other images, while the slow file is read', async () => {
    const host = await startHost('busy');
    try {
      const quick = (await post<ImportReport>(host, 'importPaths', [[join(root, 'quick.png')]])).ok!.added[0];
      const source = (await post<TileSourceInfo>(host, 'tileSource', [quick.id])).ok!;
      const tileUrl = (level: number, x: number): string =>
        source.tileUrl.replace('{level}', String(level)).replace('{x}', String(x)).replace('{y}', '0');

      // The cheap calls come from a thread of their own, so their latency is measured by a clock this
      // process's event loop cannot hold up.
      const client = new Worker(POLLER, { eval: true, workerData: { port: host.port, token: TOKEN } });
      const polls = new Promise<{ at: number; ms: number; status: number }[]>((resolve, reject) => {
        client.once('message', resolve);
        client.once('error', reject);
      });
      await new Promise((r) => setTimeout(r, 200)); // the poller is running
      const started = now();
      let importDone = 0;
      const slowImport = post<ImportReport>(host, 'importPaths', [[join(root, 'slow.tif')]]).then((r) => {
        importDone = now();
        return r;
      });
      const tiles: { status: number; at: number }[] = [];
      await new Promise((r) => setTimeout(r, 50)); // the import has reached its reader thread
      for (let i = 0; i < 4; i++) {
        const tile = await get(host, tileUrl(10 - (i % 2), i >> 1)); // tiles of the other image, not yet cached
        tiles.push({ status: tile.status, at: now() });
      }
      await slowImport;
      client.postMessage('stop');
      const during = (await polls).filter((p) => p.at + p.ms > started && p.at < importDone);
      expect(during.every((p) => p.status === 200)).toBe(true);
      const report = (await slowImport).ok!;
      expect(report.added[0]).toMatchObject({ name: 'slow.tif', status: 'ok' });
      // Not vacuous: the import really took long, and calls were made all along.
      expect(importDone - started).toBeGreaterThan(400);
      // Within 200 ms: nine calls in ten, however loaded the machine; and none waits for the decode (the
      // host that read on its event loop kept every call made meanwhile waiting for all of it: 1.3 s).
      // On the shared 2-core machine (load 16-19) single calls took up to 340 ms without any blocking
      // work: the host's own event-loop delay peaked at 165-176 ms there, from CPU starvation alone.
      const ms = during.map((p) => p.ms).sort((a, b) => a - b);
      expect(ms[Math.floor(ms.length * 0.9)]).toBeLessThan(200);
      expect(ms.at(-1)).toBeLessThan((importDone - started) / 2);
      expect(during.length).toBeGreaterThanOrEqual(5);
      expect(tiles.map((t) => t.status)).toEqual([200, 200, 200, 200]);
      expect(Math.max(...tiles.map((t) => t.at))).toBeLessThan(importDone);
    } finally {
      await host.close();
    }
  }, 60_000);

  it('refuses a read over the budget with a plain reason in the import report, then reads other files', async () => {
    const host = await startHost('budget', 600);
    try {
      const r = await post<ImportReport>(host, 'importPaths', [[join(root, 'slow.tif')]]);
      expect(r.status).toBe(200);
      const [entry] = r.ok!.added;
      expect(entry).toMatchObject({ name: 'slow.tif', status: 'unsupported' });
      expect(entry.reason).toContain('reading it took longer than 0.6 s, so it was stopped');
      expect(r.ok!.failed).toEqual([{ path: join(root, 'slow.tif'), reason: entry.reason }]);
      const after = await post<ImportReport>(host, 'importPaths', [[join(root, 'quick.png')]]);
      expect(after.ok!.added[0]).toMatchObject({ name: 'quick.png', status: 'ok' });
      expect((await get(host, `/thumbs/${after.ok!.added[0].id}.jpg`)).status).toBe(200);
    } finally {
      await host.close();
    }
  }, 60_000);
});

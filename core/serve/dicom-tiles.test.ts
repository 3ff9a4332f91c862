// A DICOM whole slide through the serve host over real HTTP: a series of JPEG 2000 instances is imported
// (read in the reader pool's threads, the built reader worker loading the WebAssembly codec) and its Deep
// Zoom tiles are served with the slide's pixels.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport, TileSourceInfo } from '../common/api.js';
import { diffRgb } from '../data/fixtures/compare.js';
import { patternRgb } from '../data/fixtures/pattern.js';
import { writeDicomSeries } from '../data/fixtures/dicom.js';
import { apiOk, httpRequest } from './fixtures/http.js';
import { startServeHost, type ServeHost } from './host.js';

let host: ServeHost;
let root: string;
const TOKEN = 'test-token-dicom-0123456789abcdefghijklmnopqrs';
const auth = { Authorization: `Bearer ${TOKEN}` };

async function http(path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const r = await httpRequest(host.port, path, { headers: auth });
  return { status: r.status, type: String(r.headers['content-type']), body: r.body };
}

const call = <T>(method: string, args: unknown[]): Promise<T> => apiOk<T>(host.port, TOKEN, method, args);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-serve-dicom-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await mkdir(join(root, 'slide'));
  await writeDicomSeries(join(root, 'slide'), {
    seriesUid: '1.2.826.0.1.3680043.10.77',
    width: 1024,
    height: 768,
    codec: 'jpeg2000',
    mppUm: 0.25,
  });
  host = await startServeHost({
    projectPath: join(root, 'proj'),
    port: 0,
    host: '127.0.0.1',
    rendererDir: root,
    log: () => undefined,
    token: TOKEN,
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await rm(root, { recursive: true, force: true });
});

describe('serve host: a DICOM whole slide', () => {
  it('imports a JPEG 2000 series and serves its tiles with the slide pixels', async () => {
    const report = await call<ImportReport>('importPaths', [[join(root, 'slide')]]);
    expect(report.added.map((a) => [a.name, a.status, a.meta?.format])).toEqual([['level-0.dcm', 'ok', 'dicom']]);
    const src = await call<TileSourceInfo>('tileSource', [report.added[0].id]);
    expect([src.width, src.height, src.mpp]).toEqual([1024, 768, 0.25]);
    const url = (level: number, x: number, y: number): string =>
      src.tileUrl.replace('{level}', String(level)).replace('{x}', String(x)).replace('{y}', String(y));
    const tile = await http(url(src.maxLevel, 1, 1));
    expect(tile.status).toBe(200);
    expect(tile.type).toBe('image/jpeg');
    const { data, info } = await sharp(tile.body).raw().toBuffer({ resolveWithObject: true });
    // The tile's pixels start at (tileSize - overlap) per step: compare the overlap-free part to the pattern.
    const x0 = src.tileSize - src.overlap;
    const w = info.width;
    const h = info.height;
    const d = diffRgb(new Uint8Array(data), patternRgb(x0, x0, w, h), w);
    expect(d.meanAbs).toBeLessThan(3); // JPEG 2000 in the file, JPEG-encoded for the viewer
    expect(info.channels).toBe(3);
  }, 60_000);
});

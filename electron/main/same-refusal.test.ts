// One call path: the same bad call sent through the serve host (real HTTP) and through the Electron IPC
// dispatcher is refused with the same error envelope, naming the field, because both hand it to
// core/app/dispatch.ts. Each host has its own real AppService on its own project.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../core/common/errors.js';
import { AppService, rootAssetUrls } from '../../core/app/service.js';
import { startServeHost, type ServeHost } from '../../core/serve/host.js';
import { createDispatcher, type CallSender, type Dispatcher } from './dispatch.js';

const TOKEN = 'same-refusal-token-0123456789abcdefghijklmnop';
const trusted: CallSender = { webContentsId: 1, frameUrl: 'dinoscope://app/index.html', mainFrame: true };

let dir: string;
let host: ServeHost;
let service: AppService;
let ipc: Dispatcher;

/** POST /api/call/<method> with a raw JSON body; resolves to the status and the parsed reply. */
function httpCall(method: string, body: string): Promise<{ status: number; json: { ok?: unknown; error?: ErrorEnvelope } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: host.port,
        path: `/api/call/${encodeURIComponent(method)}`,
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ok?: unknown; error?: ErrorEnvelope },
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-same-refusal-'));
  process.env.DINOSCOPE_HOME = path.join(dir, 'home');
  await mkdir(path.join(dir, 'renderer'));
  await writeFile(path.join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  host = await startServeHost({
    projectPath: path.join(dir, 'serve-project'),
    port: 0,
    host: '127.0.0.1',
    rendererDir: path.join(dir, 'renderer'),
    log: () => undefined,
    token: TOKEN,
  });
  service = new AppService({ host: 'electron', version: '1.0.0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(path.join(dir, 'ipc-project'));
  ipc = createDispatcher({ service, trustedWebContentsId: () => 1 });
});

afterAll(async () => {
  await host?.close();
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The envelope each transport answers `method(...args)` with. */
async function refusals(
  method: string,
  args: unknown,
): Promise<{ serve: ErrorEnvelope | undefined; ipc: ErrorEnvelope | undefined; status: number }> {
  const viaHttp = await httpCall(method, JSON.stringify(args));
  const viaIpc = await ipc(trusted, method, args);
  return { serve: viaHttp.json.error, ipc: 'error' in viaIpc ? viaIpc.error : undefined, status: viaHttp.status };
}

describe('a bad call is refused the same way by both transports', () => {
  const cases: { method: string; args: unknown; message: string }[] = [
    { method: 'clusterOverlay', args: ['img', 1.5], message: 'k: must be an integer from 2 to 64, got 1.5.' },
    { method: 'clusterOverlay', args: ['img', '8'], message: 'k: must be an integer from 2 to 64, got "8".' },
    { method: 'extractFeatures', args: [{ modelId: 'm', mpp: -0.5 }], message: 'mpp: must be a positive number, got -0.5.' },
    { method: 'extractFeatures', args: [{ modelId: 'm', mpp: 0.5, level: 1 }], message: 'level: give either mpp or level, not both.' },
    {
      method: 'extractFeatures',
      args: [{ modelId: 'm', batchSize: 4 }],
      message: 'batchSize: is not a known field (known: modelId, mpp, level, batch, imageIds, context, mask, device, channels, activate).',
    },
    {
      method: 'similarityQuery',
      args: [{ imageId: 'i', points: [{ x: 1, y: 'two' }] }],
      message: 'points[0].y: must be a number, got "two".',
    },
    {
      method: 'exportAnalysis',
      args: [{ format: 'tiff' }],
      message: 'format: must be one of "npy", "safetensors", "zarr", "png", "ome-tiff", "geojson", "csv", "qupath", got "tiff".',
    },
    {
      method: 'startTraining',
      args: [{ preset: 'quick', steps: 10, minutes: 2 }],
      message: 'minutes: give either steps or minutes, not both.',
    },
    { method: 'openProject', args: [], message: 'path: must be a non-empty string, got nothing.' },
    { method: 'appInfo', args: ['extra'], message: 'appInfo: takes no arguments, got 1.' },
  ];
  for (const c of cases) {
    it(`${c.method}(${JSON.stringify(c.args).slice(1, -1)})`, async () => {
      const r = await refusals(c.method, c.args);
      expect(r.serve).toEqual({ name: 'DinoscopeError', code: 'BAD_INPUT', message: c.message });
      expect(r.ipc).toEqual(r.serve);
      expect(r.status).toBe(400);
    });
  }

  it('refuses unknown methods, prototype names included, with the same NOT_FOUND', async () => {
    for (const m of ['deleteEverything', 'constructor', '__proto__', 'toString', 'close']) {
      const r = await refusals(m, []);
      expect(r.serve).toEqual({ name: 'DinoscopeError', code: 'NOT_FOUND', message: `"${m}" is not an API method.` });
      expect(r.ipc).toEqual(r.serve);
      expect(r.status).toBe(404);
    }
  });

  it('passes a good call through both to the service', async () => {
    const viaHttp = await httpCall('listDirectory', JSON.stringify([dir]));
    const viaIpc = await ipc(trusted, 'listDirectory', [dir]);
    expect(viaHttp.json.ok).toEqual((viaIpc as { ok: unknown }).ok);
    expect((viaHttp.json.ok as { entries: { name: string }[] }).entries.map((e) => e.name)).toContain('renderer');
  });
});

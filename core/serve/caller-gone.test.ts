// Long work outlives the browser that started it: an extraction called over HTTP whose connection closes
// (the browser closed) once the job has started keeps running in the serve host, finishes, and its feature
// set is there for the next window; that window lists the job while it runs (runningJobs), and the host
// answers as before. A real tiny model over real images.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../analysis/fixture.js';
import { importedProject } from '../app/fixture-service.js';
import type { JobProgress } from '../common/api.js';
import { vitConfig } from '../model/config.js';
import { projectModelsDir } from '../model/manager/paths.js';
import { initParams } from '../model/params.js';
import { exportWeights } from '../model/weights/export.js';
import type { WeightTensor } from '../model/weights/safetensors.js';
import { startServeHost, type ServeHost } from './host.js';

const TOKEN = 'editor-token-0123456789abcdefghijklmnopqrstuv';
/** Enough work that the job still runs when the caller hangs up and the next window asks (seconds here). */
const IMAGES = 8;

let root: string;
let host: ServeHost;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-caller-gone-'));
  const paths = await writeMosaics(join(root, 'slides'), IMAGES, { side: 448, stride: 14, dim: 8 });
  await (await importedProject(root, paths)).service.close();
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(root, 'project')), 'tiny'), cfg, tensors, 'hf');
  host = await startServeHost({
    projectPath: join(root, 'project'),
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

async function call<T>(method: string, args: unknown[]): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${host.port}/api/call/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { ok?: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.ok as T;
}

describe('a job outlives the browser that started it', () => {
  it('keeps extracting after the caller hangs up, and the next window sees the job and then its features', async () => {
    const events: JobProgress[] = [];
    const off = host.service.on('jobProgress', (p) => events.push(p));
    try {
      // The browser's call: extractFeatures over HTTP, the connection dropped once the job has started.
      const req = request({
        host: '127.0.0.1',
        port: host.port,
        path: '/api/call/extractFeatures',
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      });
      const hungUp = new Promise<void>((resolve) => req.on('error', () => resolve()).on('close', () => resolve()));
      req.end(JSON.stringify([{ modelId: 'tiny', level: 0, device: 'cpu' }]));
      await expect.poll(() => events.find((e) => e.kind === 'extract'), { timeout: 60_000 }).toBeDefined();
      const jobId = events.find((e) => e.kind === 'extract')!.jobId;
      req.destroy();
      await hungUp;

      // A window opened now lists the job as running.
      const running = await call<JobProgress[]>('runningJobs', []);
      expect(running.map((j) => [j.jobId, j.kind, j.state])).toEqual([[jobId, 'extract', 'running']]);

      await expect.poll(() => events.find((e) => e.jobId === jobId && e.state !== 'running')?.state, { timeout: 240_000 }).toBe('done');
      const project = await call<{ images: { hasFeatures?: boolean }[]; featureSets?: { imagesWithFeatures: number }[] }>(
        'currentProject',
        [],
      );
      expect(project.images.map((i) => i.hasFeatures)).toEqual(Array(IMAGES).fill(true));
      expect(project.featureSets?.[0].imagesWithFeatures).toBe(IMAGES);
      expect(await call<JobProgress[]>('runningJobs', [])).toEqual([]);
    } finally {
      off();
    }
  }, 300_000);
});

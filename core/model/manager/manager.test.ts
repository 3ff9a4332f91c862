// The model manager on real folders, real safetensors files and a real local HTTP server.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../common/api.js';
import { JobRegistry } from '../../jobs/registry.js';
import { vitConfig } from '../config.js';
import { initParams } from '../params.js';
import { exportWeights } from '../weights/export.js';
import type { WeightTensor } from '../weights/safetensors.js';
import { catalogue } from './catalogue.js';
import { ModelManager } from './manager.js';

let root: string;
let server: Server;
let base = '';
const files = new Map<string, Buffer>();
const cfgV2 = vitConfig('tiny', { depth: 2, arch: 'dinov2', registers: 4, posEmbed: { gridSize: 4 } });
const cfgV3 = vitConfig('tiny', { depth: 2, arch: 'dinov3', registers: 2 });

function canonical(cfg: typeof cfgV2, seed: number): Map<string, WeightTensor> {
  return new Map(Object.entries(initParams(cfg, seed)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-models-'));
  await exportWeights(join(root, 'src', 'hf-v2'), cfgV2, canonical(cfgV2, 1), 'hf');
  await exportWeights(join(root, 'src', 'orig-v3'), cfgV3, canonical(cfgV3, 2), 'original');
  await exportWeights(join(root, 'src', 'hf-v3'), cfgV3, canonical(cfgV3, 3), 'hf');
  files.set('/repo/resolve/main/model.safetensors', await readFile(join(root, 'src', 'hf-v3', 'model.safetensors')));
  files.set('/repo/resolve/main/config.json', await readFile(join(root, 'src', 'hf-v3', 'config.json')));
  files.set('/bare/weights.safetensors', await readFile(join(root, 'src', 'hf-v3', 'model.safetensors')));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(root, { recursive: true, force: true });
});

function manager(project: string | null = null): { m: ModelManager; jobs: JobRegistry; events: JobProgress[] } {
  const jobs = new JobRegistry();
  const events: JobProgress[] = [];
  jobs.on((p) => events.push(p));
  return {
    m: new ModelManager({ projectDir: () => project, jobs, userDir: join(root, 'user-models'), defaultToken: () => undefined }),
    jobs,
    events,
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('ModelManager', () => {
  it('imports an HF folder and a lone original-layout file; lists them with arch, size, registers and checksum', async () => {
    const { m, events } = manager();
    const a = await m.importAsJob(join(root, 'src', 'hf-v2'));
    expect(a).toMatchObject({
      id: 'hf-v2',
      arch: 'dinov2',
      size: 'custom',
      dim: 192,
      depth: 2,
      heads: 3,
      registers: 4,
      patchSize: 14,
      layout: 'hf-dinov2',
      location: 'user',
      licence: 'unknown',
    });
    expect(a.sha256).toBe(sha(await readFile(join(root, 'src', 'hf-v2', 'model.safetensors'))));
    expect(events.at(-1)).toMatchObject({ kind: 'model-import', state: 'done' });
    const b = await m.importPath(join(root, 'src', 'orig-v3', 'model.safetensors'), { name: 'My v3' });
    expect(b).toMatchObject({ id: 'my-v3', name: 'My v3', arch: 'dinov3', registers: 2, layout: 'original', heads: 3 });
    expect(JSON.parse(await readFile(join(b.path, 'config.json'), 'utf8'))).toMatchObject({ num_heads: 3, dinoscope_layout: 'original' });
    const list = await m.list();
    expect(list.map((x) => x.id)).toEqual(['hf-v2', 'my-v3']);
    // The same source again gets a fresh id.
    expect((await m.importPath(join(root, 'src', 'hf-v2'))).id).toBe('hf-v2-2');
    const loaded = await m.load('my-v3');
    const want = canonical(cfgV3, 2);
    for (const [k, t] of want) expect(Buffer.from(loaded.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    await m.remove('hf-v2-2');
    expect((await m.list()).map((x) => x.id)).toEqual(['hf-v2', 'my-v3']);
    await expect(m.remove('hf-v2-2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a file that is not a ViT checkpoint without leaving anything behind', async () => {
    const { m } = manager();
    const bad = join(root, 'src', 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'model.safetensors'), Buffer.from('not a safetensors file at all'));
    await expect(m.importPath(bad)).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringContaining(join(bad, 'model.safetensors')),
    });
    await expect(m.importPath(join(root, 'src', 'nothing.pth'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await readdir(join(root, 'user-models'))).filter((n) => n.startsWith('.'))).toEqual([]);
    // A damaged model folder is left out of the list (with its reason), not fatal to it.
    const broken = join(root, 'user-models', 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'dinoscope.json'), '{ nope');
    const before = await m.list();
    expect(before.some((x) => x.id === 'broken')).toBe(false);
    expect(m.problems).toEqual([expect.stringMatching(/broken\/dinoscope\.json: not valid JSON/)]);
    await rm(broken, { recursive: true });
  });

  it('keeps models in the open project, listed before user models', async () => {
    const proj = join(root, 'project');
    await mkdir(proj, { recursive: true });
    await expect(manager().m.importPath(join(root, 'src', 'hf-v3'), { location: 'project' })).rejects.toThrow(/No project is open/);
    const { m } = manager(proj);
    const p = await m.importPath(join(root, 'src', 'hf-v3'), { location: 'project' });
    expect(p).toMatchObject({ location: 'project', path: join(proj, 'models', 'hf-v3'), layout: 'hf-dinov3' });
    expect((await m.list())[0].id).toBe('hf-v3');
  });

  it('downloads a URL with its config.json as a job with byte progress, and fails clearly on a wrong checksum', async () => {
    const { m, events } = manager();
    const model = files.get('/repo/resolve/main/model.safetensors')!;
    const got = await m.downloadAsJob(`${base}/repo/resolve/main/model.safetensors`, { sha256: sha(model) });
    expect(got).toMatchObject({
      id: 'repo',
      arch: 'dinov3',
      layout: 'hf-dinov3',
      sha256: sha(model),
      source: `${base}/repo/resolve/main/model.safetensors`,
    });
    expect(existsSync(join(got.path, 'config.json'))).toBe(true);
    const done = events.filter((e) => e.kind === 'model-download');
    expect(done.at(-1)).toMatchObject({ state: 'done' });
    expect(Math.max(...done.map((e) => e.done))).toBeGreaterThanOrEqual(model.length);
    // No config.json beside it on the server: one is written from the inferred config.
    const bare = await m.download(`${base}/bare/weights.safetensors`);
    expect(bare.id).toBe('weights');
    await expect(m.download(`${base}/bare/weights.safetensors`)).rejects.toThrow(/already in/);
    await expect(m.downloadAsJob(`${base}/bare/weights.safetensors`, { name: 'other', sha256: '0'.repeat(64) })).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/checksum mismatch/),
    });
    expect(events.at(-1)).toMatchObject({ kind: 'model-download', state: 'failed' });
    expect((await m.list()).some((x) => x.id === 'other')).toBe(false);
    await expect(m.download('not-a-model')).rejects.toThrow(/not in the model catalogue/);
  });

  it('offers the catalogue: DINOv2-reg S/B/L (Apache-2.0) and gated DINOv3 S/B/L', async () => {
    const list = await manager().m.catalogue();
    expect(list.map((c) => c.id)).toEqual(catalogue.map((c) => c.id));
    expect(list.filter((c) => c.arch === 'dinov2').every((c) => c.licence === 'Apache-2.0' && !c.gated)).toBe(true);
    expect(list.filter((c) => c.arch === 'dinov3').every((c) => c.gated && /accept the DINOv3 License/.test(c.note ?? ''))).toBe(true);
    expect(catalogue.find((c) => c.id === 'dinov3-vits16')?.files[0].url).toBe(
      'https://huggingface.co/facebook/dinov3-vits16-pretrain-lvd1689m/resolve/main/model.safetensors',
    );
  });
});

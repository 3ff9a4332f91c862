// `dinoscope models` end to end: the built CLI, spawned as a user would run it, against temp folders and a
// local HTTP server.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitConfig } from '../../model/config.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import { loadWeights } from '../../model/weights/import.js';

let dir: string;
let server: Server;
let base = '';

function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/dinoscope.js', ...args], {
      env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home'), HF_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-cli-models-'));
  const cfg = vitConfig('tiny', { depth: 1, arch: 'dinov2', registers: 4, posEmbed: { gridSize: 2 } });
  const tensors = new Map(Object.entries(initParams(cfg, 7)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await exportWeights(join(dir, 'src'), cfg, tensors, 'hf');
  const weights = await readFile(join(dir, 'src', 'model.safetensors'));
  server = createServer((req, res) => {
    if (req.url !== '/x/tiny.safetensors') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': weights.length });
    res.end(weights);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

describe('dinoscope models', () => {
  it('imports, lists, exports, downloads and deletes, with JSON on stdout', async () => {
    const imp = await cli('models', 'import', join(dir, 'src'), '--name', 'Tiny reg4');
    expect(imp.status, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({
      id: 'tiny-reg4',
      arch: 'dinov2',
      registers: 4,
      layout: 'hf-dinov2',
      path: join(dir, 'home', 'models', 'tiny-reg4'),
    });

    const exp = await cli('models', 'export', 'tiny-reg4', '--out', join(dir, 'out'), '--format', 'original');
    expect(exp.status, exp.stderr).toBe(0);
    expect(JSON.parse(exp.stdout).files).toEqual([join(dir, 'out', 'model.safetensors')]);

    const onnx = await cli(
      'models',
      'export',
      'tiny-reg4',
      '--out',
      join(dir, 'onnx'),
      '--format',
      'onnx',
      '--size',
      '28x42',
      '--batch',
      '2',
    );
    expect(onnx.status, onnx.stderr).toBe(0);
    expect(JSON.parse(onnx.stdout)).toMatchObject({
      path: join(dir, 'onnx', 'model.onnx'),
      inputs: [{ name: 'images', shape: [2, 3, 28, 42] }],
      outputs: [
        { name: 'cls', shape: [2, 192] },
        { name: 'registers', shape: [2, 4, 192] },
        { name: 'patches', shape: [2, 6, 192] },
      ],
    });
    const dyn = await cli('models', 'export', 'tiny-reg4', '--out', join(dir, 'onnx-dynamic'), '--format', 'onnx');
    expect(dyn.status, dyn.stderr).toBe(0);
    expect(JSON.parse(dyn.stdout)).toMatchObject({
      inputs: [{ name: 'images', shape: ['batch', 3, 'height', 'width'] }],
      outputs: [
        { name: 'cls', shape: ['batch', 192] },
        { name: 'registers', shape: ['batch', 4, 192] },
        { name: 'patches', shape: ['batch', '(height/14)*(width/14)', 192] },
      ],
    });

    const dl = await cli('models', 'download', `${base}/x/tiny.safetensors`);
    expect(dl.status, dl.stderr).toBe(0);
    expect(JSON.parse(dl.stdout)).toMatchObject({ id: 'tiny', source: `${base}/x/tiny.safetensors` });
    expect(dl.stderr).toMatch(/Download .*: done/);

    const list = await cli('models', 'list');
    expect((JSON.parse(list.stdout) as { id: string }[]).map((m) => m.id)).toEqual(['tiny', 'tiny-reg4']);
    const del = await cli('models', 'delete', 'tiny');
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: 'tiny' });
  });

  it('exits 2 with one line naming the file and the problem', async () => {
    const missing = await cli('models', 'import', join(dir, 'nope.safetensors'));
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([`dinoscope models: ${join(dir, 'nope.safetensors')}: no such file or folder.`]);
    const bad = await cli('models', 'fly');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown action "fly"/);
    const sum = await cli('models', 'download', `${base}/x/tiny.safetensors`, '--name', 'again', '--sha256', 'a'.repeat(64));
    expect(sum.status).toBe(2);
    expect(sum.stderr).toMatch(/checksum mismatch — expected sha256 a{64}/);
  });

  it('init writes a freshly initialised model that loads as the architecture asked for, reproducibly', async () => {
    const quick = await cli('models', 'init', '--name', 'Random quick', '--seed', '3');
    expect(quick.status, quick.stderr).toBe(0);
    // The Quick preset's architecture: ViT-Tiny/16 with 6 blocks, 4 registers, LayerScale init 1.
    expect(JSON.parse(quick.stdout)).toMatchObject({ id: 'random-quick', arch: 'dinov2', registers: 4, source: 'init:3' });
    const again = await cli('models', 'init', '--name', 'Random quick again', '--seed', '3');
    expect(again.status, again.stderr).toBe(0);
    const small = await cli('models', 'init', '--size', 'small', '--arch', 'dinov3', '--patch', '16', '--registers', '0', '--seed', '1');
    expect(small.status, small.stderr).toBe(0);
    expect(JSON.parse(small.stdout)).toMatchObject({ arch: 'dinov3', registers: 0 });
    const a = loadWeights(join(dir, 'home', 'models', 'random-quick', 'model.safetensors'));
    const b = loadWeights(join(dir, 'home', 'models', 'random-quick-again', 'model.safetensors'));
    const [la, lb] = await Promise.all([a, b]);
    expect(la.config).toMatchObject({ dim: 192, depth: 6, patchSize: 16, registers: 4 });
    const gamma = la.tensors.get('blocks.0.ls1.gamma');
    expect(gamma && Array.from(gamma.data.subarray(0, 3))).toEqual([1, 1, 1]);
    // Same seed, same weights.
    const w = 'blocks.3.attn.qkv.weight';
    expect(Array.from(la.tensors.get(w)?.data ?? [])).toEqual(Array.from(lb.tensors.get(w)?.data ?? [0]));
    const both = await cli('models', 'init', '--preset', 'quick', '--size', 'small');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--preset gives the whole architecture; leave out --size/);
  });
});

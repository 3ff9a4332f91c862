// PyTorch checkpoints written by torch.save itself (core/model/fixtures/pth, made by
// scripts/fixtures/pth_fixture.py with Debian's python3-torch; rewritten fresh when torch is here):
// every tensor reads back byte for byte as its safetensors twin (strided views, shared storages, f16,
// bf16, int64, bool), the importer turns the training checkpoint into the model it was made from, and
// what is not a checkpoint of tensors is refused in plain words — a pickle that would run a command when
// loaded by Python runs nothing here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry } from '../../jobs/registry.js';
import { hasTorch as torchInstalled } from '../fixtures/has-torch.js';
import { PTH_FIXTURE_CONFIG, pthFixtureWeights } from '../fixtures/pth-source.js';
import { ModelManager } from '../manager/manager.js';
import { exportWeights } from './export.js';
import { loadWeights } from './import.js';
import { unpickle } from './pickle.js';
import { PthFile } from './pth.js';
import { SafetensorsFile } from './safetensors.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/pth');
const SCRIPT = join(import.meta.dirname, '../../../scripts/fixtures/pth_fixture.py');
const hasTorch = torchInstalled();

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-pth-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function manager(): ModelManager {
  return new ModelManager({
    projectDir: () => null,
    jobs: new JobRegistry(),
    userDir: join(root, `models-${Math.random().toString(36).slice(2)}`),
    defaultToken: () => undefined,
  });
}

async function checkAgainstTwin(dir: string): Promise<void> {
  const pth = await PthFile.open(join(dir, 'tiny.pth'));
  const twin = await SafetensorsFile.open(join(dir, 'tiny-twin.safetensors'));
  try {
    const tensors = pth.tensors();
    expect(tensors.map((t) => t.name).sort()).toEqual(twin.names().sort()); // "iteration" and "args" are not tensors
    for (const t of tensors) {
      const want = twin.info(t.name);
      expect(t.shape, t.name).toEqual(want.shape);
      expect(t.dtype, t.name).toBe(t.name === 'extras.flags' ? 'BOOL' : want.dtype);
      expect(Buffer.from(await pth.read(t.name)).equals(Buffer.from(await twin.readRaw(t.name))), t.name).toBe(true);
    }
    expect(tensors.find((t) => t.name === 'extras.bf16')?.dtype).toBe('BF16');
    expect(tensors.find((t) => t.name === 'extras.half')?.dtype).toBe('F16');
  } finally {
    await pth.close();
    await twin.close();
  }
}

async function checkImport(dir: string): Promise<void> {
  const m = manager();
  const info = await m.importPath(join(dir, 'tiny.pth'), { name: 'from pth' });
  expect(info).toMatchObject({ id: 'from-pth', arch: 'dinov2', registers: 2, layout: 'original' });
  const imported = await loadWeights(join(info.path, 'model.safetensors'));
  const src = join(root, 'src');
  await exportWeights(src, PTH_FIXTURE_CONFIG, pthFixtureWeights(), 'original');
  const original = await loadWeights(join(src, 'model.safetensors'), { configJson: { num_heads: 2 } });
  expect([...imported.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
  for (const [name, t] of original.tensors) {
    const got = imported.tensors.get(name);
    expect(got?.shape, name).toEqual(t.shape);
    expect(Buffer.from(got!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
  }
}

describe('PyTorch checkpoints (committed fixtures)', () => {
  it('read every tensor byte for byte as the safetensors twin: strided views, shared storages, f16, bf16, int64, bool', () =>
    checkAgainstTwin(FIXTURES));

  it('import as the model they were saved from: the teacher backbone of a training checkpoint, exactly', () => checkImport(FIXTURES));

  it('refuse the legacy format, a pickle without tensors and a file that is no checkpoint, in plain words', async () => {
    const m = manager();
    await expect(m.importPath(join(FIXTURES, 'legacy.pth'))).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining("PyTorch's legacy format"),
    });
    await expect(m.importPath(join(FIXTURES, 'evil.pth'))).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('holds no tensors'),
    });
    const notZip = join(root, 'config.pth');
    await copyFile(join(FIXTURES, 'config.json'), notZip);
    await expect(m.importPath(notZip)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('not a PyTorch checkpoint'),
    });
  });

  it('never runs what a pickle names: os.system becomes an inert record', () => {
    // {"model": os.system("touch /x")} as protocol 2 writes it.
    const evil = Buffer.concat([
      Buffer.from([0x80, 0x02, 0x7d, 0x58, 5, 0, 0, 0]),
      Buffer.from('model'),
      Buffer.from('cposix\nsystem\n'),
      Buffer.from([0x58, 8, 0, 0, 0]),
      Buffer.from('touch /x'),
      Buffer.from([0x85, 0x52, 0x73, 0x2e]),
    ]);
    const v = unpickle(evil, { persistentLoad: () => null }) as Map<string, unknown>;
    expect(v.get('model')).toEqual({ kind: 'object', type: { kind: 'global', module: 'posix', name: 'system' }, args: ['touch /x'] });
    expect(existsSync(join(FIXTURES, 'pwned'))).toBe(false);
  });

  it('say where a damaged pickle breaks', () => {
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x7d, 0x58, 200, 0, 0, 0, 0x61]), { persistentLoad: () => null }, 'x.pth')).toThrow(
      /x\.pth: the pickle ends early \(at byte 8\)/,
    );
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x69]), { persistentLoad: () => null }, 'x.pth')).toThrow(
      /opcode 0x69 is not one a data pickle uses/,
    );
  });
});

describe.skipIf(!hasTorch)('PyTorch checkpoints written now by python3-torch (scripts/fixtures/pth_fixture.py)', () => {
  it('read and import the same way', async () => {
    const src = join(root, 'fresh-src');
    const out = join(root, 'fresh');
    await exportWeights(src, PTH_FIXTURE_CONFIG, pthFixtureWeights(), 'original');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(out, { recursive: true });
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const r = spawnSync('/usr/bin/python3', [SCRIPT, join(src, 'model.safetensors'), out], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    await writeFile(join(out, 'config.json'), '{ "num_heads": 2 }\n');
    await checkAgainstTwin(out);
    await checkImport(out);
  }, 120_000);
});

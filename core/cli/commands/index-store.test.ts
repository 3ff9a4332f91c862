// `dinoscope index --store/--uri`: bad values exit 2 with one line naming the problem; --store lancedb on a
// project with features indexes it in LanceDB and says so on stderr and in the JSON (the analyses on such
// a set: core/analysis/lance-store.test.ts).
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../../app/service.js';
import { analysisProject } from '../../app/fixture-service.js';
import { writeMosaics, type MosaicSpec } from '../../analysis/fixture.js';
import { runCli } from '../main.js';

const SPEC: MosaicSpec = { side: 224, stride: 14, dim: 16 };
let root: string;
let service: AppService;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-index-'));
  ({ service } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 2, SPEC), SPEC));
}, 60_000);
afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const code = await runCli(['index', ...argv], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    signal: new AbortController().signal,
  });
  return { code, err, out };
}

describe('dinoscope index --store', () => {
  it.each([
    [['--store', 'disk'], /--store must be auto, memory or lancedb, got "disk"/],
    [['--uri', ' '], /--uri needs a folder or an s3:\/\/, gs:\/\/ or az:\/\/ URL/],
    [['--store', 'memory', '--uri', 's3://bucket/db'], /--uri names a LanceDB database; it cannot be used with --store memory/],
  ])('%j exits 2', async (args, message) => {
    const r = await cli('--project', join(root, 'project'), ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('--store lancedb indexes the set in LanceDB and says so', async () => {
    const r = await cli('--project', join(root, 'project'), '--store', 'lancedb');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      featureSet: 'synthetic-level0',
      rows: 512,
      store: 'lancedb',
      storeReason: 'LanceDB, as asked',
    });
    expect(r.err).toContain('index: LanceDB, as asked.');
    const setDir = join(root, 'project', 'cache', 'features', 'synthetic-level0');
    const record = JSON.parse(await readFile(join(setDir, 'index', 'store.json'), 'utf8')) as { table: string };
    expect(record.table).toMatch(/^vectors-/);
    await access(join(setDir, 'lancedb', `${record.table}.lance`));
  }, 120_000);
});

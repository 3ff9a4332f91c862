// Worker threads started from Electron's main-process bundle (CommonJS): the search index's scan threads
// must start there too. Before, the bundle had an empty import.meta, so the scan pool could not find its
// worker and every search in the desktop app ran on the main thread.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cjsImportMeta } from '../../scripts/cjs-import-meta.mjs';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  // A sibling of dist/electron, as the Electron main bundle is: the bundled workers are at ../cli/.
  dir = await mkdtemp(path.join(root, 'dist', 'cjs-thread-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('a CommonJS bundle built like the Electron main process starts scan threads from dist/cli', async () => {
  const entry = path.join(dir, 'entry.ts');
  const index = path.join(root, 'core/features/index');
  await writeFile(
    entry,
    `import { ExactIndex } from ${JSON.stringify(path.join(index, 'exact.ts'))};
import { ScanPool } from ${JSON.stringify(path.join(index, 'pool.ts'))};
async function main(): Promise<void> {
  const idx = await ExactIndex.create(${JSON.stringify(path.join(dir, 'index'))}, 16);
  const v = new Float32Array(1000 * 16).map((_, i) => Math.sin(i * 0.37));
  await idx.append({ image: 'x', gridWidth: 40, gridHeight: 25, positions: Uint32Array.from({ length: 1000 }, (_, i) => i), vectors: v });
  const pool = new ScanPool(2);
  const q = v.subarray(16 * 77, 16 * 78);
  const a = await idx.searchAsync(q, 5, pool);
  const same = JSON.stringify(a) === JSON.stringify(idx.search(q, 5));
  await pool.close();
  console.log(JSON.stringify({ first: a[0].row, same }));
}
void main();
`,
  );
  const out = path.join(dir, 'main.cjs');
  await build({ ...cjsImportMeta, entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
  const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ first: 77, same: true });
}, 60_000);

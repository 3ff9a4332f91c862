// The crop worker as shipped: bundle a tiny program that uses the Prefetcher, with crops.worker.ts as a
// second esbuild entry beside it (as scripts/build.mjs does for dist/cli), and run it with plain Node — no
// tsx — so the worker is found as ./crops.worker.js next to the bundle.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crops.worker in an esbuild bundle', () => {
  it('runs from ./crops.worker.js beside the bundled caller', async () => {
    const entry = join(dir, 'entry.ts');
    const src = (p: string): string => JSON.stringify(join(repo, p));
    writeFileSync(
      entry,
      `import sharp from 'sharp';
import { Prefetcher } from ${src('core/data/train/prefetch.ts')};
import { buildSamplingPlan } from ${src('core/data/train/sampler.ts')};
import { QUICK_CROPS } from ${src('core/data/train/augment/multicrop.ts')};
const png = ${JSON.stringify(join(dir, 'slide.png'))};
const rgb = new Uint8Array(300 * 300 * 3).fill(240);
for (let i = 0; i < rgb.length; i += 3) if ((i / 3) % 300 > 100) rgb.set([190, 70, 150], i);
await sharp(rgb, { raw: { width: 300, height: 300, channels: 3 } }).png().toFile(png);
const plan = await buildSamplingPlan([{ id: 's', path: png }], { tileSize: 64 });
const p = await Prefetcher.start({ plan, workers: 1, config: { seed: 1, batchSize: 2, patchSize: 16, crops: { ...QUICK_CROPS, globalSize: 32, localSize: 16, localCrops: 2 } } });
const b = await p.next();
await p.close();
console.log(JSON.stringify({ step: b.step, global: b.crops.global.length, masks: b.masks.masks.length }));
`,
    );
    const out = join(dir, 'out');
    await build({
      entryPoints: { main: entry, 'crops.worker': join(repo, 'core/data/train/crops.worker.ts') },
      outdir: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external: ['onnxruntime-node', 'sharp', 'electron', 'ws', 'geotiff', 'zarrita'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir'); // externals resolve from the repo
    const r = spawnSync(process.execPath, [join(out, 'main.js')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ step: 0, global: 2 * 2 * 3 * 32 * 32, masks: 2 * 2 * 4 });
  });
});

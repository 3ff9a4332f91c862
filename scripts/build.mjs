// Builds everything that runs outside the TypeScript test runner:
//   dist/cli/main.js            the CLI (also hosts `serve`), ESM for Node
//   dist/cli/*.worker.js        worker-thread entries
//   dist/electron/main.cjs      Electron main process
//   dist/electron/service.worker.cjs  its service process (the AppService)
//   dist/electron/preload.cjs   sandboxed preload (CommonJS, no Node modules but electron)
//   dist/renderer/              the Svelte UI (vite)
// Native and large packages stay external and are loaded from node_modules at run time; so does the
// JPEG 2000 codec, whose Emscripten loader reads its .wasm from beside its own .js file.
import { build as esbuild } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cjsImportMeta } from './cjs-import-meta.mjs';

const external = [
  'onnxruntime-node',
  'sharp',
  'koffi',
  'electron',
  'ws',
  'geotiff',
  'zarrita',
  'bufferutil',
  'utf-8-validate',
  '@cornerstonejs/codec-openjpeg',
  '@lancedb/lancedb',
  'apache-arrow',
];
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

// Each output is written beside itself and renamed over the old one, so a CLI or worker that starts while
// a build runs (the test files run in parallel, a developer rebuilds while the app runs) reads either the
// old file or the new one, never a half-written one.
async function build(options) {
  const result = await esbuild({ ...options, write: false });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  return result;
}

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, external, logLevel: 'warning' };

if (want('cli')) {
  const workers = ['core/cli/main.ts'];
  await build({
    ...common,
    // crops.worker: training-crop worker threads (core/data/train/prefetch.ts loads ./crops.worker.js beside main.js).
    // reader.worker: the image-reading threads of the hosts (core/reader-pool/pool.ts, found like train.worker below).
    // fit.worker: the k-means and PCA fits of the analysis service (core/analysis/fit-thread.ts).
    // scan.worker: search-index scan threads (core/features/index/pool.ts loads ./scan.worker.js beside main.js).
    // train.worker: training child processes (core/train/host/spawn.ts forks ./train.worker.js beside main.js,
    // or ../cli/train.worker.js from dist/electron/main.cjs; core/io/fork.ts). probe.worker: the hardware probe's child (core/hardware/hardware.ts), found the same way.
    // gpu-check.worker: `dinoscope hardware --check`'s child (core/train/gpu-check.ts), found the same way.
    entryPoints: {
      main: 'core/cli/main.ts',
      'crops.worker': 'core/data/train/crops.worker.ts',
      'scan.worker': 'core/features/index/scan.worker.ts',
      'train.worker': 'core/train/host/worker.ts',
      'probe.worker': 'core/hardware/probe-worker.ts',
      'gpu-check.worker': 'core/train/gpu-check-child.ts',
      'reader.worker': 'core/reader-pool/reader.worker.ts',
      'fit.worker': 'core/analysis/fit.worker.ts',
    },
    outdir: 'dist/cli',
    format: 'esm',
    // Bundled CommonJS dependencies may call require(); give ESM output one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  void workers;
}
if (want('electron') && existsSync('electron/main/main.ts')) {
  // service.worker: the service process (the AppService), started by main.cjs as a utility process
  // (electron/main/utility-launch.ts); it finds the reader, training and probe workers in ../cli/.
  await build({
    ...common,
    ...cjsImportMeta,
    entryPoints: { main: 'electron/main/main.ts', 'service.worker': 'electron/service/service.worker.ts' },
    outdir: 'dist/electron',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
  });
  await build({
    ...common,
    entryPoints: { preload: 'electron/preload/preload.ts' },
    outdir: 'dist/electron',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
  });
}
if (want('renderer') && existsSync('renderer/vite.config.ts')) {
  // Built beside dist/renderer and swapped in when complete, so a host serving the old UI meanwhile never finds
  // it half-deleted (vite empties its output folder first).
  const next = `dist/renderer.next-${process.pid}`;
  const old = `dist/renderer.old-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    [
      'node_modules/vite/bin/vite.js',
      'build',
      '--config',
      'renderer/vite.config.ts',
      '--logLevel',
      'warn',
      '--outDir',
      resolve(next),
      '--emptyOutDir',
    ],
    // Always the production build: vite (and Svelte's compiler with it) builds in development mode when the
    // caller's NODE_ENV says so, and vitest sets it to 'test' — the e2e suites then drove a UI with Svelte's
    // dev checks and stack captures on every state change, not the one users run.
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (r.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    process.exit(r.status ?? 1);
  }
  if (existsSync('dist/renderer')) renameSync('dist/renderer', old);
  renameSync(next, 'dist/renderer');
  rmSync(old, { recursive: true, force: true });
}

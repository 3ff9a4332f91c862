// Bundles the GPU bench and the device check for scripts/device/pack.sh: one ESM file each, the native
// packages left as imports (they travel in .devgpu/pack.tar.xz).
import { build } from 'esbuild';
await build({
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['onnxruntime-node', 'sharp'],
  logLevel: 'warning',
  outdir: '.devgpu',
  outExtension: { '.js': '.mjs' },
  entryPoints: { gpu: 'bench/gpu.bench.ts', devcheck: 'scripts/device/devcheck.ts' },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

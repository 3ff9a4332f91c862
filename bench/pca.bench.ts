// `npm run bench -- pca`: the time from a feature set to its PCA map fit (core/analysis/pca-maps.ts
// fitSamplePca at threshold 0, the maps' default for a PNG set: a PCA of the whole sample, then one of its
// foreground) for the feature widths of ViT-S, -B, -L and -g (384, 768, 1024, 1536), on PCA_SAMPLE (8000)
// synthetic rows: 64 latent directions with a decaying spectrum, half the rows shifted along one of them
// (tissue against background), noise on top. Beside it the exact eigendecomposition of the 1024-wide
// covariance alone (core/features/eigen.ts), and a NumPy reference of the same two fits (float64 covariance
// by OpenBLAS, LAPACK eigh; bench/python/pca_ref.py, OPENBLAS_CORETYPE/L2_SIZE unset).
// Last line: `pca_fit_ms_1024 <ours, best of 3>` (the ViT-L width: UNI, most pathology foundation models).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PCA_SAMPLE, fitSamplePca } from '../core/analysis/pca-maps.js';
import { gaussian, mulberry32 } from '../core/common/random.js';
import { symmetricEigen } from '../core/features/eigen.js';
import { covariance } from '../core/features/pca.js';
import { fmtMachine } from './lib/machine.js';
import { torchEnv } from './lib/torch-env.js';

const DIMS = (process.env.PCA_DIMS ?? '384,768,1024,1536').split(',').map(Number);
const PYTHON = '/usr/bin/python3';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = (s: string): void => void process.stdout.write(s + '\n');
const log = (s: string): void => void process.stderr.write(s + '\n');

function sample(n: number, d: number, seed: number): Float32Array {
  const g = gaussian(mulberry32(seed));
  const L = 64;
  const mix = Float32Array.from({ length: L * d }, () => g() / Math.sqrt(d));
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let a = 0; a < L; a++) {
      const z = g() / Math.sqrt(a + 1) + (a === 0 && r % 2 ? 3 : 0);
      for (let j = 0; j < d; j++) x[o + j] += z * mix[a * d + j];
    }
    for (let j = 0; j < d; j++) x[o + j] += 0.05 * g();
  }
  return x;
}

function best(f: () => void, repeats = 3): number {
  let b = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

out(`pca bench: ${fmtMachine()}; ${PCA_SAMPLE} rows, widths ${DIMS.join(', ')}`);
const n = PCA_SAMPLE;
const samples = DIMS.map((d, i) => sample(n, d, 7 + i));
const ours: number[] = [];
for (const [i, d] of DIMS.entries()) {
  log(`ours: fitting d ${d} …`);
  ours.push(best(() => void fitSamplePca(samples[i], d, 0)));
  out(`ours d ${d}: ${ours[i].toFixed(0)} ms (two fits: the sample, then its foreground)`);
}
if (DIMS.includes(1024)) {
  const x = samples[DIMS.indexOf(1024)];
  const mean = new Float64Array(1024);
  for (let r = 0; r < n; r++) for (let j = 0; j < 1024; j++) mean[j] += x[r * 1024 + j] / n;
  let cov: Float64Array = new Float64Array(0);
  const covMs = best(() => void (cov = covariance(x, n, 1024, mean)), 1);
  const eigMs = best(() => void symmetricEigen(cov, 1024), 1);
  out(`exact path at d 1024: covariance ${covMs.toFixed(0)} ms, eigendecomposition ${eigMs.toFixed(0)} ms`);
}
const dir = await mkdtemp(join(tmpdir(), 'dinoscope-bench-pca-'));
try {
  const file = join(dir, 'sample.f32');
  const all = new Float32Array(samples.reduce((s, x) => s + x.length, 0));
  samples.reduce((o, x) => (all.set(x, o), o + x.length), 0);
  await writeFile(file, Buffer.from(all.buffer));
  log('numpy: running …');
  const py = spawnSync(PYTHON, [join(root, 'bench/python/pca_ref.py'), file, String(n), DIMS.join(',')], {
    encoding: 'utf8',
    env: torchEnv({ OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' }),
    cwd: join(root, 'bench/python'),
  });
  if (py.status !== 0) log(`numpy reference failed (${py.stderr.trim().split('\n').pop()}); ours only`);
  else {
    log(py.stderr.trim());
    const ref = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as { ms: number[] };
    DIMS.forEach((d, i) => out(`numpy d ${d}: ${ref.ms[i].toFixed(0)} ms (ours / numpy ${(ours[i] / ref.ms[i]).toFixed(2)})`));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const i1024 = DIMS.indexOf(1024);
out(i1024 >= 0 ? `pca_fit_ms_1024 ${ours[i1024].toFixed(0)}` : `pca_fit_ms_${DIMS.at(-1)} ${ours.at(-1)?.toFixed(0)}`);

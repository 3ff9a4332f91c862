// `npm run bench -- block`: the ViT-S block (B=32, N=261, D=384, 6 heads, MLP 1536) forward +
// backward through our compiler and onnxruntime, against the same block in PyTorch 1.13 (Debian's
// python3-torch, run by /usr/bin/python3), at 1 and 2 threads.
//
// Each side runs in its own long-lived process (start-up excluded; peak RSS read for both the same way, from
// /proc/<pid>/status VmHWM), the sides alternate round by round after a warm-up because the machine is noisy.
// First a parity check: our float32 gradients and PyTorch's float32 ones against PyTorch's float64 autograd
// on the same random weights. Last line: `ratio <ours/pytorch median time at 2 threads>`.
// Targets: ratio ≤ 1.0 at both thread counts; our peak RSS ≤ 1.2× PyTorch's.
// Environment: BENCH_ROUNDS (default 8), BENCH_WARMUP (default 2), BENCH_THREADS (default "1,2"),
// BENCH_PARITY=0 to skip the parity check, BENCH_REMAT=1 to rematerialise attention in our backward.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate } from './lib/alternate.js';
import { BenchChild } from './lib/child.js';
import { fmtMachine } from './lib/machine.js';
import { fmtBytes } from './lib/rss.js';
import { fmtMs, median } from './lib/stats.js';
import { torchEnv } from './lib/torch-env.js';

const PYTHON = '/usr/bin/python3'; // Debian's: the python3 first on PATH cannot see python3-torch
const root = fileURLToPath(new URL('..', import.meta.url));
const refScript = join(root, 'bench/python/block_ref.py');
const worker = join(root, 'bench/lib/block-worker.ts');
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
const threadCounts = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const remat = process.env.BENCH_REMAT === '1';
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

// One-thread runtimes in the children: OpenMP/BLAS read these at start; each side sets its own count.
const childEnv = (threads: number): NodeJS.ProcessEnv => ({ ...process.env, OMP_NUM_THREADS: String(threads) });
const torchChildEnv = (threads: number): NodeJS.ProcessEnv => torchEnv({ OMP_NUM_THREADS: String(threads) });

function ours(mode: string, threads: number, extra: string[] = []): string[] {
  return ['--import', 'tsx', worker, mode, '--threads', String(threads), ...(remat ? ['--remat'] : []), ...extra];
}

function parityCheck(): void {
  const dir = mkdtempSync(join(tmpdir(), 'dinoscope-block-parity-'));
  try {
    log('parity: PyTorch float64 and float32 autograd on seeded weights …');
    const py = spawnSync(PYTHON, [refScript, 'parity', '--dir', dir, '--threads', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: torchChildEnv(2),
    });
    if (py.status !== 0) throw new Error(`block_ref.py parity failed (status ${py.status})`);
    log('parity: ours (float32) on the same inputs …');
    const node = spawnSync(process.execPath, ours('parity', 2, ['--dir', dir]), {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: root,
      maxBuffer: 1 << 24,
    });
    if (node.status !== 0) throw new Error(`block-worker parity failed (status ${node.status})`);
    const res = (
      JSON.parse(node.stdout.toString().trim().split('\n').pop() ?? '{}') as {
        parity: Record<string, { ours64: { maxAbs: number; rel: number }; torch32vs64: { maxAbs: number; rel: number } }>;
      }
    ).parity;
    let worstOurs = 0;
    let worstTorch = 0;
    let worstRel = 0;
    for (const [name, r] of Object.entries(res)) {
      log(
        `  ${name.padEnd(24)} ours−fp64 ${r.ours64.maxAbs.toExponential(2)} (rel ${r.ours64.rel.toExponential(2)})   torch fp32−fp64 ${r.torch32vs64.maxAbs.toExponential(2)}`,
      );
      worstOurs = Math.max(worstOurs, r.ours64.maxAbs);
      worstTorch = Math.max(worstTorch, r.torch32vs64.maxAbs);
      worstRel = Math.max(worstRel, r.ours64.rel);
    }
    out(
      `parity: max abs diff of our float32 output and gradients vs PyTorch float64 autograd ${worstOurs.toExponential(2)} (max relative ${worstRel.toExponential(2)}); PyTorch float32 vs float64 ${worstTorch.toExponential(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Side {
  ms: number[];
  rss: number | null;
}

async function atThreads(threads: number): Promise<{ ours: Side; torch: Side }> {
  log(`\n${threads} thread(s): starting both sides …`);
  const o = new BenchChild('ours', process.execPath, ours('serve', threads), childEnv(threads));
  const t = new BenchChild('torch', PYTHON, [refScript, 'serve', '--threads', String(threads)], torchChildEnv(threads));
  try {
    const [ro, rt] = [await o.next(), await t.next()];
    if (!ro.ready || !rt.ready) throw new Error(`a side did not start: ${JSON.stringify(ro)} ${JSON.stringify(rt)}`);
    const res = await alternate([o, t], rounds, warmup);
    return { ours: { ms: res.ms.ours, rss: res.peakRss.ours }, torch: { ms: res.ms.torch, rss: res.peakRss.torch } };
  } finally {
    await o.close();
    await t.close();
  }
}

// Fail early, in one line, when the reference is missing (it is a bench-only dependency, never a runtime one).
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  process.stderr.write(
    `block bench: ${PYTHON} cannot import torch; install Debian's python3-torch and libopenblas0-openmp (apt-get install -y python3-torch libopenblas0-openmp)\n`,
  );
  process.exit(2);
}

out(
  `block bench: ViT-S block fwd+bwd B=32 N=261 D=384 heads=6 MLP=1536 float32${remat ? ' (remat attention)' : ''}; ${rounds} rounds after ${warmup} warm-up, alternating`,
);
out(`machine: ${fmtMachine()}; PyTorch ${probe.stdout.trim()}`);
if (process.env.BENCH_PARITY !== '0') parityCheck();
const ratios: Record<number, number> = {};
for (const threads of threadCounts) {
  const r = await atThreads(threads);
  const mo = median(r.ours.ms);
  const mt = median(r.torch.ms);
  ratios[threads] = mo / mt;
  const rssRatio = r.ours.rss !== null && r.torch.rss !== null ? (r.ours.rss / r.torch.rss).toFixed(2) : 'n/a';
  out(`threads ${threads}: ours ${fmtMs(r.ours.ms)}, pytorch ${fmtMs(r.torch.ms)}, ratio ${ratios[threads].toFixed(3)}`);
  out(`threads ${threads}: peak RSS ours ${fmtBytes(r.ours.rss)}, pytorch ${fmtBytes(r.torch.rss)}, ratio ${rssRatio}`);
}
const last = ratios[2] ?? ratios[threadCounts[threadCounts.length - 1]];
out(`ratio ${last.toFixed(3)}`);

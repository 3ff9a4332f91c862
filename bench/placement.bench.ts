// `npm run bench -- placement`: where onnxruntime places the nodes of the graphs a GPU runs — the extraction
// backbone and the Quick, Standard and adapt training graphs (core/train/gpu-graphs.ts, small widths) — on
// WebGPU, read from onnxruntime's profile of a run (core/graph/placement.ts). Without a GPU it runs WebGPU on
// SwiftShader (chromium's CPU Vulkan driver: placement and numbers are real, speed is not); BENCH_SWIFTSHADER=0
// uses the machine's own Vulkan driver (a GPU machine). Per graph: nodes in total, on WebGPU, host ↔ device
// copies, kernels one run launches (nodes + copies); for the step graphs, the largest relative difference
// of two steps' losses, gradient norms and gradients against the CPU.
// Last line: `placement webgpu_fraction X nodes N`, X the smallest share of nodes on WebGPU over the graphs,
// N the nodes of all graphs together.
import { ORT_PROVIDER } from '../core/graph/placement.js';
import { swiftShaderEnv, swiftShaderMissing } from '../core/graph/swiftshader.js';
import { gpuCheckInChild } from '../core/train/gpu-check.js';
import { fmtMachine } from './lib/machine.js';

const out = (s: string): void => void process.stdout.write(s + '\n');
const swift = process.env.BENCH_SWIFTSHADER !== '0';
const ss = swift && !swiftShaderMissing() ? await swiftShaderEnv() : null;
const env = swift ? ss?.env : { ...process.env };
out(`placement bench: WebGPU on ${swift ? 'SwiftShader (CPU Vulkan)' : "this machine's Vulkan driver"}`);
out(`machine: ${fmtMachine()}`);
if (!env) {
  out(`placement: ${swiftShaderMissing()} (install chromium), or run with BENCH_SWIFTSHADER=0 on a GPU machine`);
  out('placement webgpu_fraction n/a nodes 0');
  process.exit(0);
}
try {
  const results = await gpuCheckInChild('webgpu', env, { log: (l) => process.stderr.write(`  ${l}\n`) });
  let worst = 1;
  let total = 0;
  for (const r of results) {
    const p = r.placement;
    const on = p.byProvider[ORT_PROVIDER.webgpu] ?? 0;
    worst = Math.min(worst, on / p.nodes.length);
    total += p.nodes.length;
    const off = p.nodes.filter((n) => n.provider !== ORT_PROVIDER.webgpu).map((n) => `${n.op} ${n.name} (${n.provider})`);
    out(
      `${r.name}: nodes ${p.nodes.length}, on WebGPU ${on}, copies ${p.copies.length}, kernels per run ${p.nodes.length + p.copies.length}${off.length ? `; elsewhere: ${off.join(', ')}` : ''}`,
    );
    for (const [i, s] of (r.steps ?? []).entries())
      out(
        `  step ${i + 1} vs CPU: losses ${s.losses.toExponential(1)}, gradient norms ${s.gradNorms.toExponential(1)}, gradients ${s.gradients.toExponential(1)} (max relative)`,
      );
  }
  out(`placement webgpu_fraction ${worst.toFixed(4)} nodes ${total}`);
} finally {
  await ss?.close();
}

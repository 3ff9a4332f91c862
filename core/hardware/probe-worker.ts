// The hardware probe's child process (forked by hardware.ts): probes the providers named in argv one by one
// (probe.ts), writing a marker line to stderr before each, so the parent can tell which native messages
// came from which probe; sends the results over IPC and exits. The parent keeps the stderr to itself.
// Nothing imports this file: it runs only as the child's entry.
import type { Provider } from '../graph/runtime.js';
import {
  PROBE_MARKER,
  type ProbeMessage,
  type ProbeResult,
  probeFloat16,
  probeModel,
  probeProvider,
  softwareAdapterProblem,
} from './probe.js';

async function main(): Promise<void> {
  const model = probeModel();
  const results: ProbeResult[] = [];
  for (const name of process.argv.slice(2)) {
    process.stderr.write(`${PROBE_MARKER}${name}\n`); // synchronous on pipes: ordered with native writes
    const problem = await probeProvider(name as Provider, model);
    // An adapter on a CPU Vulkan driver opens, but is never chosen for real work.
    const result: ProbeResult = { name, problem: problem === null && name === 'webgpu' ? softwareAdapterProblem() : problem };
    if (name === 'webgpu' && result.problem === null) {
      // Its own marker: onnxruntime's error line of an adapter without shader-f16 is no reason against WebGPU.
      process.stderr.write(`${PROBE_MARKER}${name}/float16\n`);
      result.float16 = await probeFloat16(name);
    }
    results.push(result);
  }
  const m: ProbeMessage = { type: 'probe', results };
  process.send?.(m, undefined, {}, () => process.exit(0));
}

if (process.send) void main();

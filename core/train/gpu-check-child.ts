// The GPU check (gpu-check.ts) as a child process entry, so the parent can start it with the environment a
// provider needs before onnxruntime loads (e.g. core/graph/swiftshader.ts): `node --import tsx
// core/train/gpu-check-child.ts PROVIDER [GRAPH-PREFIX…]` (bundled: dist/cli/gpu-check.worker.js) prints the results as one JSON line on stdout,
// one progress line per graph on stderr.
import type { Provider } from '../graph/runtime.js';
import { gpuCheck } from './gpu-check.js';

const [provider = 'webgpu', ...only] = process.argv.slice(2);
const results = await gpuCheck(provider as Provider, { only: only.length ? only : undefined, log: (l) => process.stderr.write(l + '\n') });
process.stdout.write(JSON.stringify(results) + '\n');

// The hardware a training run would use (the Train panel's "runs on"): the execution providers of the
// presets' preference order (cuda, webgpu, cpu), each probed once per process by creating a one-op
// session on it — onnxruntime lists providers it was built with even where no device or driver is present.
import { availableParallelism } from 'node:os';
import type { TrainHardware } from '../../common/api.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { sum } from '../../graph/ops/elementwise.js';
import { type Provider, Session, availableProviders } from '../../graph/runtime.js';

/** The providers training can use, in preference order (core/train/config.ts runtime.providers). */
export const TRAIN_PROVIDERS: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];

async function probe(provider: Provider, model: Uint8Array): Promise<string | null> {
  let why: string | null = null;
  try {
    const s = await Session.create(model, { providers: [provider], warn: (m) => (why = m) });
    const ok = s.provider === provider;
    await s.release();
    return ok ? null : (why ?? 'not available');
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

let cached: Promise<TrainHardware> | null = null;

/** Probes once per process; later calls return the same answer. */
export function trainHardware(): Promise<TrainHardware> {
  cached ??= (async () => {
    const known = new Map(availableProviders().map((p) => [p.name, p]));
    const g = new Graph('probe');
    const x = g.input('x', [1]);
    g.output(sum(x, x), 'y');
    const model = serialize(g);
    const providers: TrainHardware['providers'] = [];
    for (const name of TRAIN_PROVIDERS) {
      if (!known.has(name)) {
        providers.push({ name, available: false, note: 'not in this onnxruntime build' });
        continue;
      }
      const problem = name === 'cpu' ? null : await probe(name, model);
      providers.push(problem === null ? { name, available: true } : { name, available: false, note: problem.replace(/^execution provider fallback: /, '').replace(/; running on cpu$/, '') });
    }
    const selected = providers.find((p) => p.available)?.name ?? 'cpu';
    return { providers, selected, cpuThreads: availableParallelism() };
  })();
  return cached;
}

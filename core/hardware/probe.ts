// One execution provider probed in this process: a one-op session created on it (onnxruntime lists
// providers it was built with even where no device or driver is present, so only a session proves one).
// Native libraries print their load errors straight to this process's stderr (fd 2): run it in the probe
// child (probe-worker.ts), whose stderr hardware.ts captures.
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { cast, sum } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/linalg.js';
import { hostTensor } from '../graph/tensor.js';
import { type Provider, Session } from '../graph/runtime.js';
import { onlySoftwareDrivers, vulkanDrivers } from './vulkan-drivers.js';

/** The line the probe child writes to stderr before probing a provider (then its name). */
export const PROBE_MARKER = '@@dinoscope-probe ';

export interface ProbeResult {
  name: string;
  /** Null when a session ran on it, else why not. */
  problem: string | null;
  /** WebGPU that opened: whether it ran the float16 probe (mixed-precision training, core/train/precision.ts). */
  float16?: boolean;
}

/** The probe child's one message. */
export interface ProbeMessage {
  type: 'probe';
  results: ProbeResult[];
}

/** The probe model: y = x + x on a 1-element input. */
export function probeModel(): Uint8Array {
  const g = new Graph('probe');
  const x = g.input('x', [1]);
  g.output(sum(x, x), 'y');
  return serialize(g);
}

/** The float16 probe model: y = float32(float16(x) @ float16(x)) on a (2, 2) input. */
export function float16Model(): Uint8Array {
  const g = new Graph('probe_f16');
  const x = g.input('x', [2, 2]);
  const h = cast(x, 'float16');
  g.output(cast(matmul(h, h), 'float32'), 'y');
  return serialize(g);
}

/**
 * Whether `provider` runs float16 kernels: the float16 model runs there and gives the right product. A WebGPU
 * adapter without the shader-f16 feature (SwiftShader, some integrated GPUs) refuses at the first run
 * ("Program Cast requires f16 but the device does not support it"), onnxruntime logging it to fd 2.
 */
export async function probeFloat16(provider: Provider, model: Uint8Array = float16Model()): Promise<boolean> {
  let s: Session | null = null;
  try {
    s = await Session.create(model, { providers: [provider], warn: () => undefined });
    if (s.provider !== provider) return false;
    const out = await s.run({ x: hostTensor('float32', [2, 2], [1, 2, 3, 4]) });
    return Array.from(out.y.data as Float32Array).join() === '7,10,15,22';
  } catch {
    return false;
  } finally {
    await s?.release();
  }
}

/** Null when a session runs on `provider`, else why not (one line). */
export async function probeProvider(provider: Provider, model: Uint8Array): Promise<string | null> {
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

/** The problem prefix of a WebGPU adapter that runs on the CPU (plain-note.ts reads it). */
export const SOFTWARE_ADAPTER = 'software Vulkan driver only';

/**
 * Why a WebGPU adapter that opened is not for real work: on Linux, when every Vulkan driver is one that runs
 * on the CPU (SwiftShader, lavapipe), slower than onnxruntime's CPU kernels. Null otherwise.
 */
export function softwareAdapterProblem(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | null {
  if (platform !== 'linux') return null;
  const drivers = vulkanDrivers(env);
  const names = onlySoftwareDrivers(drivers);
  return names ? `${SOFTWARE_ADAPTER}: ${names.join(', ')} (${drivers.map((d) => d.manifest).join(', ')}), which runs on the CPU` : null;
}

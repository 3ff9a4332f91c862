// Which execution providers a model runs on: the user's device choice checked against the hardware probe.
// The one decision for every model this app runs — training (core/train, config runtime.device) and
// extraction (core/features/extract, ExtractOptions.device):
//   'cpu'            cpu, without probing;
//   'auto'           the probe's `selected` (cuda, webgpu, else cpu);
//   'webgpu'/'cuda'  that provider when the probe found it available; otherwise cpu, with one warning line that
//                    says in plain words what is missing and what to do (plain-note.ts), the probe's raw
//                    reason kept in `detail`. The provider is not tried in this process: a session attempted
//                    on an absent device prints its native libraries' lines (Vulkan, Dawn, CUDA) to fd 2.
// A provider the probe passed that still fails to open falls back inside Session.create (core/graph/runtime.ts).
import type { TrainHardware } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { Provider } from '../graph/runtime.js';
import { probeHardware } from './hardware.js';
import { explainProvider } from './plain-note.js';

export type DeviceRequest = 'auto' | 'cpu' | 'webgpu' | 'cuda';

export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface DeviceChoice {
  /** Providers for Session.create, in preference order (cpu is always its last resort). */
  providers: Provider[];
  /** One line for the log: the device and why, or the warning when an explicit one is not available. */
  line: string;
  /** An explicit device was not available: running on cpu instead. */
  fellBack: boolean;
  /** With fellBack: the probe's raw reason (onnxruntime's and the native libraries' lines) for a bug report. */
  detail?: string;
}

/** `device` as a DeviceRequest (undefined: 'auto'), else BAD_INPUT naming the choices. */
export function checkDevice(device: unknown, what = 'device'): DeviceRequest {
  if (device === undefined) return 'auto';
  if (typeof device === 'string' && (DEVICE_REQUESTS as readonly string[]).includes(device)) return device as DeviceRequest;
  throw new DinoscopeError('BAD_INPUT', `${what} must be auto, cpu, webgpu or cuda, got ${String(device)}.`);
}

/**
 * The providers for `device`. `work` names what runs in the fallback warning ("Extraction", "Training");
 * `probe` is the hardware probe (tests may pass a finished one).
 */
export async function resolveDevice(
  device: DeviceRequest,
  work: string,
  probe: () => Promise<TrainHardware> = probeHardware,
): Promise<DeviceChoice> {
  if (device === 'cpu') return { providers: ['cpu'], line: 'device: cpu (as asked).', fellBack: false };
  const hw = await probe();
  if (device === 'auto') {
    const selected = hw.selected as Provider;
    const skipped = hw.providers.filter((p) => !p.available && p.name !== 'cpu').map((p) => p.name);
    const why = skipped.length && selected === 'cpu' ? `; ${skipped.join(', ')} not available here` : '';
    return { providers: [selected], line: `device: auto → ${selected} (hardware probe${why}).`, fellBack: false };
  }
  const found = hw.providers.find((p) => p.name === device);
  if (found?.available) return { providers: [device], line: `device: ${device} (as asked).`, fellBack: false };
  // In plain words from the probe's raw reason (its note may say another provider runs instead; here cpu does).
  const detail = found?.detail ?? found?.note ?? 'not probed: no result';
  const why = explainProvider(device, detail);
  return {
    providers: ['cpu'],
    line: `warning: device ${device} is not available here: ${why.missing}. ${work} runs on the CPU instead. ${capitalised(why.todo)}.`,
    fellBack: true,
    detail,
  };
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

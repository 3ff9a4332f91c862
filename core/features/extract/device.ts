// Where extraction runs: ExtractOptions.device → the execution providers the tile models are created with.
// 'cpu' never probes. 'auto' takes the hardware probe's `selected` (core/hardware: cuda, webgpu, else cpu,
// probed once per process in a child so the native libraries' load errors stay off stderr). An explicit
// 'webgpu' / 'cuda' is checked against the same probe first: one that is not available here runs on cpu
// with one warning line in the log that says in plain words what is missing and what to do (the probe's raw
// reason goes to the log only under DINOSCOPE_DEBUG=1), without trying it in this process (a webgpu session
// attempted here prints Vulkan/Dawn lines straight to fd 2). A provider the probe passed that still fails to open falls
// back inside Session.create, whose warning the caller routes into the log as well.
import type { ExtractOptions, TrainHardware } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { Provider } from '../../graph/runtime.js';
import { probeHardware } from '../../hardware/hardware.js';
import { explainProvider } from '../../hardware/plain-note.js';

export type ExtractDevice = NonNullable<ExtractOptions['device']>;

export const EXTRACT_DEVICES: readonly ExtractDevice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/**
 * Tiles per model run on a GPU provider when `batch` is not given. The CPU default (DEFAULT_BATCH, 8)
 * already keeps every core busy; a GPU needs more work per launch to fill its units and amortise the
 * host↔device copies: 32 is what `npm run bench -- gpu` measured on an H200 (92k patches/s on webgpu).
 */
export const GPU_BATCH = 32;

export interface DeviceChoice {
  /** Providers for Session.create, in preference order (cpu is always its last resort). */
  providers: Provider[];
  /** One line for the extraction log: the device, or the warning when an explicit one is not available. */
  line: string;
  /** An explicit device was not available: running on cpu instead. */
  fellBack: boolean;
  /** With fellBack: the probe's raw reason (onnxruntime's and the native libraries' lines) for a bug report. */
  detail?: string;
}

export function checkDevice(device: unknown): ExtractDevice {
  if (device === undefined) return 'auto';
  if (typeof device === 'string' && (EXTRACT_DEVICES as readonly string[]).includes(device)) return device as ExtractDevice;
  throw new DinoscopeError('BAD_INPUT', `device must be auto, cpu, webgpu or cuda, got ${String(device)}.`);
}

/** The providers for `device`; `probe` is the hardware probe (tests may pass a finished one). */
export async function chooseDevice(device: ExtractDevice, probe: () => Promise<TrainHardware> = probeHardware): Promise<DeviceChoice> {
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
    line: `warning: device ${device} is not available here: ${why.missing}. Extraction runs on the CPU instead. ${capitalised(why.todo)}.`,
    fellBack: true,
    detail,
  };
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// Where extraction runs: ExtractOptions.device → the execution providers the tile models are created with,
// decided by core/hardware/device.ts resolveDevice, as training's are: 'cpu' never probes; 'auto' takes the
// hardware probe's `selected`; an explicit 'webgpu' / 'cuda' that the probe did not find runs on cpu with one
// warning line in the log (what is missing and what to do, in plain words; the probe's raw reason goes to
// the log only under DINOSCOPE_DEBUG=1). A provider the probe passed that still fails to open falls back
// inside Session.create, whose warning the caller routes into the log as well.
import type { ExtractOptions, TrainHardware } from '../../common/api.js';
import { type DeviceChoice, DEVICE_REQUESTS, checkDevice as checkDeviceRequest, resolveDevice } from '../../hardware/device.js';
import { probeHardware } from '../../hardware/hardware.js';

export type ExtractDevice = NonNullable<ExtractOptions['device']>;

export const EXTRACT_DEVICES: readonly ExtractDevice[] = DEVICE_REQUESTS;

/**
 * Tiles per model run on a GPU provider when `batch` is not given. The CPU default (DEFAULT_BATCH, 8)
 * already keeps every core busy; a GPU needs more work per launch to fill its units and amortise the
 * host↔device copies: 32 is what `npm run bench -- gpu` measured on an H200 (92k patches/s on webgpu).
 */
export const GPU_BATCH = 32;

export function checkDevice(device: unknown): ExtractDevice {
  return checkDeviceRequest(device);
}

/** The providers for `device` (core/hardware resolveDevice); `probe` is the hardware probe (tests may pass a finished one). */
export function chooseDevice(device: ExtractDevice, probe: () => Promise<TrainHardware> = probeHardware): Promise<DeviceChoice> {
  return resolveDevice(device, 'Extraction', probe);
}

// Where a run's graphs run: the config's runtime.device resolved against the hardware probe by core/hardware
// resolveDevice — the decision extraction makes for its device too — and the config's thread count.
import type { TrainHardware } from '../common/api.js';
import type { RuntimeOptions } from '../graph/runtime.js';
import { type DeviceChoice, resolveDevice } from '../hardware/device.js';
import type { TrainConfig } from './config.js';

/** The sessions' runtime options of a run with `config`; `given` (tests, benches) overrides them. */
export async function trainRuntime(
  config: TrainConfig,
  given: RuntimeOptions = {},
  probe?: () => Promise<TrainHardware>,
): Promise<{ runtime: RuntimeOptions; device: DeviceChoice }> {
  const device = await resolveDevice(config.runtime.device, 'Training', probe);
  const threads = config.runtime.threads > 0 ? { intraOpThreads: config.runtime.threads } : {};
  return { runtime: { providers: device.providers, ...threads, ...given }, device };
}

// Where a run's graphs run: the config's runtime.device resolved against the hardware probe by core/hardware
// resolveDevice — the decision extraction makes for its device too — and the config's thread count; and
// the precision (precision.ts) from runtime.precision and whether that provider runs float16.
import type { TrainHardware } from '../common/api.js';
import type { Provider, RuntimeOptions } from '../graph/runtime.js';
import { type DeviceChoice, resolveDevice } from '../hardware/device.js';
import { probeHardware } from '../hardware/hardware.js';
import type { TrainConfig } from './config.js';
import { type Precision, type PrecisionChoice, resolvePrecision, runsFloat16 } from './precision.js';

/**
 * The sessions' runtime options of a run with `config`; `given` (tests, benches) overrides them. A run on
 * `given` providers trains in fp32 unless `precision` is given too (tests of the mixed graph on the CPU).
 */
export async function trainRuntime(
  config: TrainConfig,
  given: RuntimeOptions = {},
  probe: () => Promise<TrainHardware> = probeHardware,
  precision?: Precision,
): Promise<{ runtime: RuntimeOptions; device: DeviceChoice; precision: PrecisionChoice }> {
  const device = await resolveDevice(config.runtime.device, 'Training', probe);
  const threads = config.runtime.threads > 0 ? { intraOpThreads: config.runtime.threads } : {};
  const runtime = { providers: device.providers, ...threads, ...given };
  const provider: Provider = runtime.providers?.[0] ?? 'cpu';
  let choice: PrecisionChoice;
  if (precision) choice = { precision, line: `precision: ${precision} (given).`, fellBack: false };
  else if (given.providers) choice = resolvePrecision(config.runtime.precision, provider, provider === 'cuda');
  else {
    const float16 = provider !== 'cpu' && runsFloat16(provider, await probe());
    choice = resolvePrecision(config.runtime.precision, provider, float16);
  }
  return { runtime, device, precision: choice };
}

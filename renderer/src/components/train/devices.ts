// Which device runs each part of a run, for the hardware line: training (a GPU-sized preset on the selected
// provider, a CPU-sized one on the CPU: core/train/config.ts presets' runtime.providers), the crops (worker
// threads on the CPU) and feature extraction (`auto`: the selected provider); training's precision (runtime
// precision auto: mixed where its provider runs float16, core/train/precision.ts). And a warning when the
// preset is sized for a GPU but trains on the CPU here, with the step time the host measured.
import type { TrainHardware, TrainPresetInfo, TrainTiming } from '../../../../core/common/api.js';
import { providerLabel } from './format.js';
import { formatStepTime } from './timing.js';

export interface DevicePart {
  part: 'Training' | 'Crops' | 'Extraction';
  provider: string;
  label: string;
  /** Training only: what it trains in with precision auto. */
  precision?: 'mixed' | 'fp32';
}

/** The provider a run of `preset` trains on here. */
export function trainingProvider(h: TrainHardware, preset: TrainPresetInfo | null): string {
  return preset?.sizedFor === 'gpu' ? h.selected : 'cpu';
}

/** What a run of `preset` trains in here with precision auto: mixed where its provider runs float16. */
export function trainingPrecision(h: TrainHardware, preset: TrainPresetInfo | null): 'mixed' | 'fp32' {
  const provider = trainingProvider(h, preset);
  return provider !== 'cpu' && h.providers.find((p) => p.name === provider)?.float16 ? 'mixed' : 'fp32';
}

export function deviceParts(h: TrainHardware, preset: TrainPresetInfo | null): DevicePart[] {
  const part = (p: DevicePart['part'], provider: string): DevicePart => ({
    part: p,
    provider,
    label: providerLabel(provider, h.cpuThreads),
  });
  const training = part('Training', trainingProvider(h, preset));
  const precision = trainingPrecision(h, preset);
  training.precision = precision;
  training.label += precision === 'mixed' ? ', mixed precision' : ', fp32';
  return [training, part('Crops', 'cpu'), part('Extraction', h.selected)];
}

/** Null unless a GPU-sized preset would train on the CPU here; then what to expect, in plain words. */
export function slowWarning(h: TrainHardware, preset: TrainPresetInfo | null, timing: TrainTiming | undefined): string | null {
  if (!preset || preset.sizedFor !== 'gpu' || trainingProvider(h, preset) !== 'cpu') return null;
  const step =
    timing?.state === 'measured' && timing.secondsPerStep
      ? `about ${formatStepTime(timing.secondsPerStep)} a step (measured here)`
      : 'expect it to be slow (the time of a step shows below once measured)';
  return `${preset.label} trains on the CPU here, without a GPU: ${step}. It is sized for a GPU; a CPU-sized preset is faster on this computer.`;
}

// How training numbers read in the Train panel.
import type { TrainHardware, TrainPresetInfo, TrainRunData, TrainRunStatus } from '../../../../core/common/api.js';

/** Which tiles a run trains on, in the words of the setup form's "Training tiles": 'uniform' → "All tissue,
 * uniformly", 'curated:NAME' → "Curated set “NAME”". */
export function trainingTilesLabel(data: TrainRunData): string {
  return data.startsWith('curated:') ? `Curated set “${data.slice('curated:'.length)}”` : 'All tissue, uniformly';
}

/** A learning rate: 0.0004 → "4.0e-4". */
export function formatLr(lr: number): string {
  return Number.isFinite(lr) ? lr.toExponential(1) : '—';
}

/** A loss or metric value with 4 significant digits ("NaN" when it is). */
export function formatValue(v: number | undefined): string {
  if (v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(0) : String(+v.toPrecision(4));
}

/** "ViT-tiny/16 · 6 blocks · 4 registers · 112 px + 6 × 48 px · batch 16 · K 1024 · 1,000 steps". */
export function presetSummary(p: TrainPresetInfo): string {
  const s = p.settings;
  return [
    `ViT-${s.size}/${s.patchSize}`,
    `${s.depth} block${s.depth === 1 ? '' : 's'}`,
    `${s.registers} register${s.registers === 1 ? '' : 's'}`,
    `${s.globalSize} px${s.localCrops > 0 ? ` + ${s.localCrops} × ${s.localSize} px` : ''}`,
    `batch ${s.batchSize}`,
    `K ${s.prototypes}`,
    `${s.steps.toLocaleString('en-US')} steps`,
  ].join(' · ');
}

/** "CPU, 2 threads" for cpu, the provider's name in capitals otherwise ("CUDA", "WEBGPU" → "WebGPU"). */
export function providerLabel(name: string, cpuThreads: number): string {
  const n = name.toLowerCase();
  if (n === 'cpu') return `CPU, ${cpuThreads} thread${cpuThreads === 1 ? '' : 's'}`;
  if (n === 'webgpu') return 'WebGPU';
  if (n === 'cuda') return 'CUDA';
  if (n === 'dml') return 'DirectML';
  if (n === 'coreml') return 'Core ML';
  return name;
}

/** The provider a run will use, as the hardware line's first words. */
export function hardwareSummary(h: TrainHardware): string {
  return providerLabel(h.selected, h.cpuThreads);
}

export const statusLabel: Record<TrainRunStatus, string> = {
  running: 'Running',
  paused: 'Paused',
  stopped: 'Stopped',
  done: 'Done',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** Images (tiles) per second. */
export function formatImagesPerSec(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '—';
  return v >= 10 ? v.toFixed(0) : v.toFixed(2);
}

/** An ISO time as a short local date and time. */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

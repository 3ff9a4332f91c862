// High-resolution adaptation runs (DINOv3 recipe): the pretraining loop (run.ts) on an adapt preset with the
// model to adapt as model.from — it is also the frozen Gram teacher — and the memory each size triple needs,
// for "this needs ~N GB" before a run starts (core/train/gram/memory.ts).
import { FieldError } from '../common/errors.js';
import { type ViTConfig } from '../model/config.js';
import { inspectWeights } from '../model/weights/import.js';
import type { Project } from '../project/project.js';
import { PRESET_INFO, type PresetName, type TrainConfig, gramSide, sizeTable, trainConfig } from './config.js';
import { estimatePeakMemory, formatMemory } from './gram/memory.js';
import { type SizeTriple } from './gram/sizes.js';
import { type RunOptions, type RunSummary, runPretrain } from './run.js';

export interface AdaptOptions extends Omit<RunOptions, 'preset'> {
  /** The model to adapt: a model folder's weights file or a .safetensors file (ignored with resume). */
  model?: string;
  /** An adapt preset (default adapt-cpu). */
  preset?: PresetName;
}

/** The adapt config of `preset` + `overrides` with model.from = `model` (BAD_INPUT on a pretrain preset). */
export function adaptConfig(model: string, preset: PresetName = 'adapt-cpu', overrides: Record<string, unknown> = {}): TrainConfig {
  const info = PRESET_INFO.find((p) => p.name === preset);
  if (info && info.stage !== 'adapt')
    throw new FieldError(
      'preset',
      `${preset} is a pretraining preset; adapt presets: ${PRESET_INFO.filter((p) => p.stage === 'adapt')
        .map((p) => p.name)
        .join(', ')}.`,
    );
  const model0 = typeof overrides.model === 'object' && overrides.model !== null ? overrides.model : {};
  return trainConfig(preset, { ...overrides, model: { ...model0, from: model } });
}

export interface SizeMemory {
  sizes: SizeTriple;
  /** Probability of the triple per step (1 without a table). */
  p: number;
  bytes: number;
  /** "this needs ~N GB". */
  text: string;
}

/** Estimated peak memory of one step at each size triple the run can draw. */
export function adaptMemory(c: TrainConfig, vit: ViTConfig): SizeMemory[] {
  const table = sizeTable(c, vit.patchSize) ?? [
    {
      global: c.crops.globalSize,
      local: c.crops.localSize,
      gram: c.gram.enabled ? gramSide(c, c.crops.globalSize, vit.patchSize) : c.crops.globalSize,
      p: 1,
    },
  ];
  return table.map(({ p, ...sizes }) => {
    const bytes = estimatePeakMemory(vit, sizes, { batch: c.batchSize, localCrops: c.crops.localCrops, remat: c.runtime.remat }).totalBytes;
    return { sizes, p, bytes, text: formatMemory(bytes) };
  });
}

/** Memory lines for the log: one per triple and the largest. */
export async function memoryLines(c: TrainConfig): Promise<string[]> {
  if (!c.model.from) return [];
  const vit = (await inspectWeights(c.model.from)).config;
  const m = adaptMemory(c, vit);
  const lines = m.map((x) => `  global ${x.sizes.global} px, local ${x.sizes.local} px, gram ${x.sizes.gram} px (p ${x.p}): ${x.text}`);
  const worst = m.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return [
    `memory per size triple (batch ${c.batchSize}, ${c.crops.localCrops} local crops, attention remat ${c.runtime.remat ? 'on' : 'off'}):`,
    ...lines,
    `largest: ${worst.text}`,
  ];
}

/** Runs (or resumes) a high-resolution adaptation run in `project`. */
export async function runAdapt(project: Project, opts: AdaptOptions): Promise<RunSummary> {
  if (opts.resume) return runPretrain(project, { ...opts, preset: undefined });
  if (!opts.model) throw new FieldError('model', 'adapt needs the model to adapt.');
  const preset = opts.preset ?? 'adapt-cpu';
  const overrides = { ...(opts.overrides ?? {}) };
  const config = adaptConfig(opts.model, preset, overrides); // BAD_INPUT before any folder is made
  for (const line of await memoryLines(config)) opts.log?.(`adapt: ${line}`);
  return runPretrain(project, { ...opts, preset, overrides: { ...overrides, model: { ...(config.model as object), from: opts.model } } });
}

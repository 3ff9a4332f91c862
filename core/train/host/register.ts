// A run's teacher backbone as a model of the project ("use what you trained"): written at every checkpoint
// and at the end into <project>/models/<slug(run name)>/ in the layout the model manager reads, so
// listModels shows it and extractFeatures can use it (core/model/manager/create.ts writes the folder).
import type { HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import { writeModelFolder } from '../../model/manager/create.js';
import { projectModelsDir, slug } from '../../model/manager/paths.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

/** The model id a run registers under. */
export function runModelId(runName: string): string {
  return slug(runName);
}

/** Writes (or replaces) the run's model; returns its id. */
export async function registerRunModel(
  projectDir: string,
  runName: string,
  vit: ViTConfig,
  backbone: ReadonlyMap<string, HostTensor>,
  step: number,
): Promise<string> {
  const id = runModelId(runName);
  const tensors = new Map<string, WeightTensor>([...backbone].map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await writeModelFolder(projectModelsDir(projectDir), id, vit, tensors, {
    name: `${runName} (step ${step})`,
    source: `run:${runName}@${step}`,
    licence: 'trained in this project',
    metadata: { dinoscope_run: runName, dinoscope_step: String(step) },
  });
  return id;
}

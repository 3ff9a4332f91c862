// A run's teacher backbone as a model of the project (issue 5 item 5, "use what you trained"): written at
// every checkpoint and at the end into <project>/models/<slug(run name)>/ in the layout the model manager
// reads — Hugging Face weights + config.json (core/model/weights/export.ts) + dinoscope.json — so
// listModels shows it and extractFeatures can use it. The folder is assembled under a dot-named staging
// folder (hidden from listings) and swapped in with renames, so a reader never sees half a model.
import { createHash } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostTensor } from '../../graph/tensor.js';
import type { ViTConfig } from '../../model/config.js';
import { syncFolder } from '../../io/atomic.js';
import { WEIGHTS, newManifest, writeManifest } from '../../model/manager/manifest.js';
import { projectModelsDir, slug } from '../../model/manager/paths.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

/** The model id a run registers under. */
export function runModelId(runName: string): string {
  return slug(runName);
}

/** Writes (or replaces) the run's model; returns its id. */
export async function registerRunModel(projectDir: string, runName: string, vit: ViTConfig, backbone: ReadonlyMap<string, HostTensor>, step: number): Promise<string> {
  const id = runModelId(runName);
  const dir = projectModelsDir(projectDir);
  const target = join(dir, id);
  const staging = join(dir, `.train-${id}-${process.pid}`);
  const old = join(dir, `.train-${id}-${process.pid}.old`);
  await rm(staging, { recursive: true, force: true });
  try {
    const tensors = new Map<string, WeightTensor>([...backbone].map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
    await exportWeights(staging, vit, tensors, 'hf', { metadata: { dinoscope_run: runName, dinoscope_step: String(step) } });
    const bytes = await readFile(join(staging, WEIGHTS));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const layout = vit.arch === 'dinov2' ? 'hf-dinov2' : 'hf-dinov3';
    await writeManifest(staging, newManifest({ name: `${runName} (step ${step})`, source: `run:${runName}@${step}`, licence: 'trained in this project', sha256, bytes: bytes.length, layout, config: vit }));
    await rm(old, { recursive: true, force: true });
    await rename(target, old).catch(() => undefined); // absent the first time
    await rename(staging, target);
    await syncFolder(dir);
    await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return id;
}

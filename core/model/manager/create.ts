// Writing a model folder from canonical tensors: Hugging Face weights + config.json (weights/export.ts) and
// dinoscope.json, in the layout the model manager reads. Used for a training run's teacher (written at
// every checkpoint) and for a freshly initialised model (the random baseline every evaluation needs). The
// folder is assembled under a dot-named staging folder (hidden from listings) and swapped in with renames,
// so a reader never sees half a model.
import { createHash } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder } from '../../io/atomic.js';
import type { ViTConfig } from '../config.js';
import { exportWeights } from '../weights/export.js';
import type { WeightTensor } from '../weights/safetensors.js';
import { WEIGHTS, newManifest, writeManifest } from './manifest.js';

export interface ModelFolderFields {
  /** Display name. */
  name: string;
  /** Where it came from, e.g. run:<name>@<step> or init:<seed>. */
  source: string;
  licence: string;
  /** String metadata stored in the safetensors header. */
  metadata: Record<string, string>;
}

/** Writes (or replaces) `<parent>/<id>/` holding `tensors` (canonical names, PyTorch layout). */
export async function writeModelFolder(
  parent: string,
  id: string,
  vit: ViTConfig,
  tensors: ReadonlyMap<string, WeightTensor>,
  f: ModelFolderFields,
): Promise<string> {
  const target = join(parent, id);
  const staging = join(parent, `.write-${id}-${process.pid}`);
  const old = `${staging}.old`;
  await rm(staging, { recursive: true, force: true });
  try {
    await exportWeights(staging, vit, tensors, 'hf', { metadata: f.metadata });
    const bytes = await readFile(join(staging, WEIGHTS));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const layout = vit.arch === 'dinov2' ? 'hf-dinov2' : 'hf-dinov3';
    await writeManifest(
      staging,
      newManifest({ name: f.name, source: f.source, licence: f.licence, sha256, bytes: bytes.length, layout, config: vit }),
    );
    await rm(old, { recursive: true, force: true });
    await rename(target, old).catch(() => undefined); // absent the first time
    await rename(staging, target);
    await syncFolder(parent); // the swap itself is on the disk
    await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return target;
}

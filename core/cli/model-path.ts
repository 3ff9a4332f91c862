// The model a run starts from, as `pretrain --from` and `adapt --model` take it: a .safetensors file, a
// model folder holding model.safetensors (a project or user model, a run's checkpoints/latest), or the id
// of a model in the project's or the user's models folder.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { WEIGHTS } from '../model/manager/manifest.js';

/** The weights file `m` names; BAD_INPUT naming the flag when there is none. */
export async function resolveModelWeights(flag: string, m: string, projectDir: string): Promise<string> {
  const st = await stat(resolve(m)).catch(() => null);
  if (st?.isFile()) return resolve(m);
  if (st?.isDirectory()) {
    const w = join(resolve(m), WEIGHTS);
    if (await stat(w).catch(() => null)) return w;
    throw new DinoscopeError('BAD_INPUT', `${flag} ${resolve(m)}: no ${WEIGHTS} in this folder.`);
  }
  const found = await new ModelManager({ projectDir: () => projectDir, jobs: new JobRegistry() }).find(m).catch(() => null);
  if (!found) throw new DinoscopeError('BAD_INPUT', `${flag} ${m}: no such file, folder or model id (see dinoscope models list).`);
  return join(found.path, WEIGHTS);
}

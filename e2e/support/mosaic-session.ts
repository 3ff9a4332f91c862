// The set-up the Train panel's e2e files share: a temp folder with two small texture mosaics (256 px, 16 px
// cells) imported into a project (dir/project, the host's home dir/home), the serve host on it and Chromium
// (session.ts); `prepare` adds to the project before the host starts (a model folder: writeRandomModel).
// A set-up that fails half-way closes what it opened and removes the folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMosaics } from '../../core/analysis/fixture.js';
import { importedProject } from '../../core/app/fixture-service.js';
import type { ViTConfig } from '../../core/model/config.js';
import { writeModelFolder } from '../../core/model/manager/create.js';
import { initParams } from '../../core/model/params.js';
import { startSession, type BrowserSession } from './session.js';

export interface MosaicSession extends BrowserSession {
  /** The temp folder: slides/, project/, home/. */
  dir: string;
}

/** `name` names the temp folder (dinoscope-e2e-NAME-…). */
export async function mosaicProjectSession(
  name: string,
  consoleErrors: string[],
  opts: { prepare?: (dir: string) => Promise<void> } = {},
): Promise<MosaicSession> {
  const dir = await mkdtemp(join(tmpdir(), `dinoscope-e2e-${name}-`));
  try {
    const paths = await writeMosaics(join(dir, 'slides'), 2, { side: 256, stride: 16, dim: 8 });
    await (await importedProject(dir, paths)).service.close();
    await opts.prepare?.(dir);
    return { dir, ...(await startSession(join(dir, 'project'), dir, consoleErrors)) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A model folder `parent/id` of `vit` at its random init (seed 1): a model to list, choose or import, never trained. */
export async function writeRandomModel(
  parent: string,
  id: string,
  vit: ViTConfig,
  meta: { name: string; source: string; licence?: string },
): Promise<void> {
  const tensors = new Map(Object.entries(initParams(vit, 1)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await writeModelFolder(parent, id, vit, tensors, { licence: 'test', metadata: {}, ...meta });
}

// The set-up the e2e files of a project of mosaics share: a temp folder with small texture mosaics (by default
// two of 256 px, 16 px cells) imported into a project (dir/project, the host's home dir/home), the serve host
// on it and Chromium (session.ts); `prepare` adds to the project before the host starts (a model folder:
// writeRandomModel; synthetic features: writeSyntheticFeatures with the imported ids).
// A set-up that fails half-way closes what it opened and removes the folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMosaics, type MosaicSpec } from '../../core/analysis/fixture.js';
import { importedProject } from '../../core/app/fixture-service.js';
import type { AppService } from '../../core/app/service.js';
import type { ViTConfig } from '../../core/model/config.js';
import { writeModelFolder } from '../../core/model/manager/create.js';
import { initParams } from '../../core/model/params.js';
import { startSession, type BrowserSession } from './session.js';

export interface MosaicSession extends BrowserSession {
  /** The temp folder: slides/, project/, home/. */
  dir: string;
  /** The images' ids and names in the project, mosaic 0 first. */
  ids: string[];
  names: string[];
}

export interface MosaicSessionOptions {
  /** How many mosaics (default 2) and their spec (default 256 px, 16 px cells, 8-d features). */
  images?: number;
  spec?: MosaicSpec;
  /** Runs after the import, while the set-up's service still holds the project, before the host starts. */
  prepare?: (dir: string, imported: { service: AppService; ids: string[]; names: string[] }) => Promise<void>;
}

/** `name` names the temp folder (dinoscope-e2e-NAME-…). */
export async function mosaicProjectSession(name: string, consoleErrors: string[], opts: MosaicSessionOptions = {}): Promise<MosaicSession> {
  const dir = await mkdtemp(join(tmpdir(), `dinoscope-e2e-${name}-`));
  try {
    const paths = await writeMosaics(join(dir, 'slides'), opts.images ?? 2, opts.spec ?? { side: 256, stride: 16, dim: 8 });
    const imported = await importedProject(dir, paths);
    try {
      await opts.prepare?.(dir, imported);
    } finally {
      await imported.service.close();
    }
    return { dir, ids: imported.ids, names: imported.names, ...(await startSession(join(dir, 'project'), dir, consoleErrors)) };
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

// Test support: the project the LiT alignment tests share (core/train/align: align.test.ts through the CLI,
// api.test.ts through the API contract): two generated texture mosaics (four textures in quadrants,
// core/analysis/fixture.ts) imported into a new project (importedProject: DINOSCOPE_HOME root/home), and a
// tiny random DINOv3 backbone registered as a project model, so that a step of alignment takes milliseconds.
// Captions name a quadrant's texture.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { textureAt, writeMosaics } from '../analysis/fixture.js';
import { vitConfig } from '../model/config.js';
import { importedProject } from './fixture-service.js';
import type { AppService } from './service.js';

export const SIDE = 128;
export const STRIDE = 4;
export const GRID = SIDE / STRIDE;
export const CAPTIONS = ['pink stripes', 'blue checker', 'purple dots', 'brown diagonal stripes'];
/** A tiny BPE vocabulary for the text tower. */
export const vocab = fileURLToPath(new URL('../model/text/fixtures/tiny-vocab.txt.gz', import.meta.url));

export interface AlignProject {
  /** The service holding the project open (the caller closes it). */
  service: AppService;
  project: string;
  /** The images' names in the project, mosaic 0 first. */
  names: string[];
  /** The tiny random backbone's model id. */
  modelId: string;
}

/** Writes the mosaics under root/slides and makes the project root/project with them and the tiny model. */
export async function alignProject(root: string): Promise<AlignProject> {
  const paths = await writeMosaics(join(root, 'slides'), 2, { side: SIDE, stride: STRIDE, dim: 8 });
  const { service, names } = await importedProject(root, paths);
  const project = service.requireProject().dir;
  const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: STRIDE, registers: 2 });
  const modelId = (await service.models.initRandom(vit, 5, { name: 'tiny lit', location: 'project' })).id;
  return { service, project, names, modelId };
}

/** Each quadrant of each mosaic: its image name, top-left corner in pixels and its texture's caption. */
export function quadrants(names: readonly string[]): { name: string; qx: number; qy: number; caption: string }[] {
  return names.flatMap((name, i) =>
    [0, 1, 2, 3].map((q) => {
      const [qx, qy] = [(q % 2) * (SIDE / 2), Math.floor(q / 2) * (SIDE / 2)];
      return { name, qx, qy, caption: CAPTIONS[textureAt(i, qx / STRIDE, qy / STRIDE, GRID)] };
    }),
  );
}

// The images of a project that training samples from (kept apart from sampler.ts so crop workers do not
// load the project/import modules).
import { readablePath } from '../project/importer.js';
import type { Project } from '../project/project.js';
import type { SamplerImage } from '../data/train/sampler.js';

/** The images of a project that can be trained on: status 'ok', read from their pyramid cache where one exists. */
export function trainingImages(project: Project): SamplerImage[] {
  return project
    .images()
    .filter((img) => img.status === 'ok')
    .map((img) => ({
      id: img.id,
      path: readablePath(project, img),
      thumbnail: project.thumbnailPath(img.id),
      tissueMask: project.tissueMaskPath(img.id),
      ...(img.statedMpp !== undefined && { statedMpp: img.statedMpp }),
    }));
}

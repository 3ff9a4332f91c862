// The images of a project that training samples from (kept apart from sampler.ts so crop workers do not
// load the project/import modules).
import { readablePath } from '../project/importer.js';
import { imageMeta, type Project } from '../project/project.js';
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

/**
 * The channel panel the project's trainable images share: C and the channel names when every one of them
 * is multi-channel with the same channel names; null otherwise (RGB images, or a mix: trained as RGB, the
 * multi-channel ones through their composite).
 */
export function projectPanel(project: Project): { channels: number; names: string[] } | null {
  const ok = project.images().filter((img) => img.status === 'ok');
  const names = ok.map((img) => imageMeta(img)?.channels?.map((c) => c.name) ?? null);
  if (!names.length || names.some((n) => n === null)) return null;
  const first = JSON.stringify(names[0]);
  if (names.some((n) => JSON.stringify(n) !== first)) return null;
  return { channels: names[0]!.length, names: names[0]! };
}

/**
 * `overrides` with model.channels set to the panel's C when the project's images are one panel and the
 * overrides do not say (a run trains on the panel's channels: run.ts; the estimate before Start must
 * measure that run, not an RGB one: host/api.ts). `panel` is the panel when it was applied.
 */
export function withPanelChannels(
  project: Project,
  overrides: Record<string, unknown>,
): { overrides: Record<string, unknown>; panel: { channels: number; names: string[] } | null } {
  const panel = projectPanel(project);
  const given = overrides.model;
  const model = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  if (!panel || 'channels' in model) return { overrides, panel: null };
  return { overrides: { ...overrides, model: { ...model, channels: panel.channels } }, panel };
}

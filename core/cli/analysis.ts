// Shared parts of the analysis CLI commands (dinoscope search | pca | segment | export | sets): opening a
// project's analysis service (on the project's active feature set, or the one --set names), naming an
// image by id or name. Flag parsing is command.ts.
import { resolve } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { Project } from '../project/project.js';
import { chooseFeatureSet } from '../analysis/collection.js';
import { AnalysisService } from '../analysis/service.js';
import { rootAssetUrls } from '../app/service.js';
import { flagValue, type ParsedArgs } from './command.js';

type Flags = ParsedArgs['flags'];

/** The project of --project, or BAD_INPUT. */
export async function openProjectFlag(flags: Flags): Promise<Project> {
  const arg = flagValue(flags, 'project');
  if (!arg) throw new DinoscopeError('BAD_INPUT', 'needs --project P (a project folder).');
  const dir = resolve(arg);
  if (!(await Project.exists(dir))) throw new DinoscopeError('BAD_INPUT', `${dir} is not a Dinoscope project (no project.json).`);
  return Project.open(dir);
}

/** The analysis service of --project, on the feature set --set names (checked now) or the active one. */
export async function openAnalysis(flags: Flags): Promise<AnalysisService> {
  const project = await openProjectFlag(flags);
  const set = flagValue(flags, 'set');
  if (set !== undefined) chooseFeatureSet(project, set);
  return new AnalysisService(project, { tileUrl: rootAssetUrls.tile, overlayUrl: rootAssetUrls.overlay, invalidate: () => undefined }, set);
}

/** An image of the project by id or by file name. */
export function imageIdOf(service: AnalysisService, nameOrId: string): string {
  const imgs = service.project.images();
  const hit = imgs.find((i) => i.id === nameOrId) ?? imgs.find((i) => i.name === nameOrId);
  if (!hit) throw new DinoscopeError('BAD_INPUT', `${service.project.dir}: no image "${nameOrId}" (give an id or a file name).`);
  return hit.id;
}

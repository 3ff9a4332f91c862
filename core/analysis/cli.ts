// Shared parts of the analysis CLI commands (dinoscope search | pca | segment | export): flag parsing
// with one-line BAD_INPUT errors, opening a project's analysis service (on the project's active feature
// set, or the one --set names), naming an image by id or name.
import { resolve } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { Project } from '../project/project.js';
import { rootAssetUrls } from '../app/service.js';
import { chooseFeatureSet } from './collection.js';
import { AnalysisService } from './service.js';

export type Flags = Map<string, string | true>;

export function checkFlags(flags: Flags, known: readonly string[], command: string): void {
  for (const k of flags.keys()) if (!known.includes(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope ${command} --help).`);
}

export function flagValue(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new DinoscopeError('BAD_INPUT', `--${name} needs a value.`);
  return v;
}

export function flagNumber(flags: Flags, name: string, integer: boolean): number | undefined {
  const v = flagValue(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new DinoscopeError('BAD_INPUT', `--${name} must be ${integer ? 'an integer' : 'a number'}, got "${v}".`);
  return n;
}

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

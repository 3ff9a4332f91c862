// Which way a new pretraining run starts — continued pretraining from a foundation model, or from scratch —
// and why, in words a run's log and summary can print. Continued pretraining is the default whenever the
// project's or the user's models folder holds a foundation model (core/common/starting-model.ts); the
// recipe it then follows is CONTINUED_OVERRIDES (config.ts). The CLI, the demo and the job host use this.
import { join } from 'node:path';
import type { ModelInfo } from '../common/api.js';
import type { TrainChannelRoute } from '../common/channel-routes.js';
import { DinoscopeError } from '../common/errors.js';
import { defaultStartingModel } from '../common/starting-model.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { WEIGHTS } from '../model/manager/manifest.js';
import { inspectWeights } from '../model/weights/import.js';
import { type PresetName, trainConfig } from './config.js';

export interface PretrainRoute {
  kind: 'continued' | 'scratch';
  /** The starting model: its id when it came from a models folder, else the path given. */
  model: string | null;
  /** Its model.safetensors (continued only). */
  weights: string | null;
  /** Why this route, in plain words. */
  why: string;
  /** A project of one multi-channel panel: how the model gets its channels (channel-route.ts). */
  channels?: TrainChannelRoute;
}

export interface RouteRequest {
  projectDir: string;
  /** An explicit starting model's weights file (already resolved) and how the user named it. */
  from?: { weights: string; name: string };
  /** The user asked for random weights. */
  fromScratch?: boolean;
  /** Why the run is from scratch anyway (e.g. the CLI's --tiny smoke-test model), or undefined. */
  scratchBecause?: string;
  /** The models to choose from; default: the project's and the user's models folders. */
  models?: readonly ModelInfo[];
}

/** The route of a new run; BAD_INPUT when both a starting model and from-scratch are asked for. */
export async function pretrainRoute(r: RouteRequest): Promise<PretrainRoute> {
  if (r.from && r.fromScratch)
    throw new DinoscopeError('BAD_INPUT', 'give either a model to start from (--from) or --from-scratch, not both.');
  if (r.from)
    return { kind: 'continued', model: r.from.name, weights: r.from.weights, why: `starting from ${r.from.name} as asked (--from)` };
  if (r.fromScratch) return { kind: 'scratch', model: null, weights: null, why: 'from random weights as asked (--from-scratch)' };
  if (r.scratchBecause) return { kind: 'scratch', model: null, weights: null, why: r.scratchBecause };
  const models = r.models ?? (await new ModelManager({ projectDir: () => r.projectDir, jobs: new JobRegistry() }).list());
  const m = defaultStartingModel(models);
  if (!m)
    return {
      kind: 'scratch',
      model: null,
      weights: null,
      why: 'no foundation model in the project or in your models folder, so from random weights; a model imported or downloaded there (dinoscope models import | download) becomes the start, which learns far more in a short run',
    };
  const where = m.location === 'project' ? "the project's" : 'your';
  return {
    kind: 'continued',
    model: m.id,
    weights: join(m.path, WEIGHTS),
    why: `${m.id} is a foundation model in ${where} models folder, and continuing its pretraining is the default (--from-scratch trains from random weights instead)`,
  };
}

/** One line for a run's log: the route and its reason. */
export function routeLine(r: PretrainRoute): string {
  return r.kind === 'continued' ? `continued pretraining from ${r.model}: ${r.why}` : `pretraining from scratch: ${r.why}`;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `overrides` for the route: model.from set to the starting weights, and — unless the user set crop sizes —
 * the preset's crop sizes rounded to multiples of the model's patch size (a DINOv2 model has patch 14, the
 * presets' crops are multiples of 16), at least one patch each.
 */
export async function routeOverrides(
  route: PretrainRoute,
  preset: PresetName,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  if (route.kind === 'scratch' || !route.weights) return overrides;
  const model = isPlain(overrides.model) ? overrides.model : {};
  const out: Record<string, unknown> = { ...overrides, model: { ...model, from: route.weights } };
  const patch = (await inspectWeights(route.weights)).config.patchSize;
  const given = isPlain(overrides.crops) ? overrides.crops : {};
  const crops = trainConfig(preset, out).crops;
  const fit = (s: number): number => Math.max(patch, Math.round(s / patch) * patch);
  const fitted: Record<string, number> = {};
  for (const k of ['globalSize', 'localSize'] as const) if (!(k in given) && crops[k] % patch) fitted[k] = fit(crops[k]);
  return Object.keys(fitted).length ? { ...out, crops: { ...given, ...fitted } } : out;
}

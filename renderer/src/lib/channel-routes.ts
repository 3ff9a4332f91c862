// The channel routes as the Extract and Train panels offer them (core/common/channel-routes.ts): whether the
// project has multi-channel images (only then do the panels show a route), the route a model takes, and the
// model that choosing another route switches to.
import type { ModelInfo, ProjectSummary } from '../../../core/common/api.js';
import {
  defaultTrainChannelRoute,
  EXTRACT_CHANNEL_EXPLAINED,
  EXTRACT_CHANNEL_ROUTES,
  type ExtractChannelRoute,
  TRAIN_CHANNEL_EXPLAINED,
  TRAIN_CHANNEL_ROUTES,
  type TrainChannelRoute,
} from '../../../core/common/channel-routes.js';

/** The channel names of the project's readable multi-channel images: the first one's; null when none has channels. */
export function multiChannelNames(project: ProjectSummary | null): string[] | null {
  const img = (project?.images ?? []).find((i) => i.status === 'ok' && i.meta?.channels?.length);
  return img ? img.meta!.channels!.map((c) => c.name) : null;
}

/**
 * The panel the project's readable images share (training trains on it, core/train/project-images.ts):
 * their channel names when every one is multi-channel with the same names, else null.
 */
export function sharedPanel(project: ProjectSummary | null): string[] | null {
  const ok = (project?.images ?? []).filter((i) => i.status === 'ok');
  const names = ok.map((i) => i.meta?.channels?.map((c) => c.name) ?? null);
  if (!names.length || names.some((n) => n === null)) return null;
  return names.every((n) => JSON.stringify(n) === JSON.stringify(names[0])) ? names[0] : null;
}

/** The extraction route a model takes on multi-channel images. */
export const extractRouteOf = (m: Pick<ModelInfo, 'inChans'>): ExtractChannelRoute => (m.inChans === 3 ? 'per-channel' : 'channels');

/** A model for an extraction route on C channels: `current` when it takes it, else the first that does. */
export function modelForExtractRoute(
  models: readonly ModelInfo[],
  route: ExtractChannelRoute,
  C: number,
  current: ModelInfo | null,
): ModelInfo | null {
  const takes = (m: ModelInfo): boolean => (route === 'per-channel' ? m.inChans === 3 : m.inChans === C);
  return current && takes(current) ? current : (models.find(takes) ?? null);
}

export interface RouteOption<R extends string> {
  value: R;
  explained: string;
  /** Why it cannot be chosen now (no model takes it), or null. */
  unavailable: string | null;
}

export function extractRouteOptions(models: readonly ModelInfo[], C: number): RouteOption<ExtractChannelRoute>[] {
  return EXTRACT_CHANNEL_ROUTES.map((value) => ({
    value,
    explained: EXTRACT_CHANNEL_EXPLAINED[value],
    unavailable: modelForExtractRoute(models, value, C, null)
      ? null
      : value === 'per-channel'
        ? 'no RGB model yet: add one in the Models panel'
        : `no ${C}-channel model yet: train one (Train: embed or inflate)`,
  }));
}

/** The training route a run starting from `from` (null: random weights) takes on a panel. */
export const trainRouteOf = (from: Pick<ModelInfo, 'inChans'> | null): TrainChannelRoute =>
  defaultTrainChannelRoute(from !== null && from.inChans === 3);

/**
 * The starting model for a training route: embed starts from random weights (null) unless `current` is a
 * model of the panel; inflate from `current` when it is an RGB model, else `suggested`, else the first RGB
 * model (undefined: none).
 */
export function startForTrainRoute(
  models: readonly ModelInfo[],
  route: TrainChannelRoute,
  current: ModelInfo | null,
  suggested: ModelInfo | null,
): ModelInfo | null | undefined {
  if (route === 'embed') return current && current.inChans !== 3 ? current : null;
  if (current?.inChans === 3) return current;
  if (suggested?.inChans === 3) return suggested;
  return models.find((m) => m.inChans === 3);
}

export function trainRouteOptions(models: readonly ModelInfo[], stage: 'pretrain' | 'adapt'): RouteOption<TrainChannelRoute>[] {
  const rgb = models.some((m) => m.inChans === 3);
  return TRAIN_CHANNEL_ROUTES.map((value) => ({
    value,
    explained: TRAIN_CHANNEL_EXPLAINED[value],
    unavailable:
      value === 'inflate' && !rgb
        ? 'no RGB model to widen yet: add one in the Models panel'
        : value === 'embed' && stage === 'adapt' && !models.some((m) => m.inChans !== 3)
          ? 'adaptation starts from a model: no model of this panel yet'
          : null,
  }));
}

// How a new training run gives the model a multi-channel panel's channels (core/common/channel-routes.ts):
// 'embed' (a C-channel patch embedding from random weights) or 'inflate' (a starting RGB model's patch
// embedding widened to C channels). `dinoscope pretrain|adapt --channels` choose it; without the flag a
// run on a panel project takes inflate when it starts from a model and embed otherwise. Whatever the route,
// the run trains on the panel's channels (model.channels C, run.ts); the choice decides where it starts.
import {
  defaultTrainChannelRoute,
  TRAIN_CHANNEL_EXPLAINED,
  TRAIN_CHANNEL_ROUTES,
  type TrainChannelRoute,
} from '../common/channel-routes.js';
import { DinoscopeError } from '../common/errors.js';

/** The panel a project's images share (project-images.ts projectPanel). */
export interface Panel {
  channels: number;
  names: string[];
}

/** `--channels VALUE` read: one of TRAIN_CHANNEL_ROUTES; anything else is BAD_INPUT with the allowed list. */
export function readTrainChannelRoute(value: string | true | undefined): TrainChannelRoute | undefined {
  if (value === undefined) return undefined;
  const r = TRAIN_CHANNEL_ROUTES.find((x) => x === value);
  if (r) return r;
  const hint =
    value === 'per-channel'
      ? ' per-channel needs no training: extract with an RGB model as it is (dinoscope extract --channels per-channel).'
      : '';
  throw new DinoscopeError(
    'BAD_INPUT',
    `--channels must be ${TRAIN_CHANNEL_ROUTES.join(' or ')}, got "${value === true ? '' : value}".${hint}`,
  );
}

/** A channel route needs a panel: every image of the project multi-channel with the same channels. */
export function requirePanel(panel: Panel | null): Panel {
  if (panel) return panel;
  throw new DinoscopeError(
    'BAD_INPUT',
    "--channels applies to a project whose images are one multi-channel panel (the same channels in every image), and this project's are not.",
  );
}

/**
 * The route a run on `panel` takes, given the user's `choice` (or none) and the model it starts from
 * (`start`: its name and input channels; null: random weights). BAD_INPUT when they do not fit.
 */
export function trainChannelRoute(
  choice: TrainChannelRoute | undefined,
  panel: Panel,
  start: { name: string; inChans: number } | null,
): TrainChannelRoute {
  const route = choice ?? defaultTrainChannelRoute(start !== null && start.inChans === 3);
  if (route === 'embed' && start !== null && start.inChans === 3)
    throw new DinoscopeError(
      'BAD_INPUT',
      `--channels embed gives the model a patch embedding of the ${panel.channels} channels' own, and the run starts from ${start.name}, an RGB model: --channels inflate starts from it.`,
    );
  if (route === 'inflate') {
    if (start === null)
      throw new DinoscopeError(
        'BAD_INPUT',
        '--channels inflate widens an RGB model, and the run has none to start from: give --from MODEL, or import or download one (dinoscope models import | download).',
      );
    if (start.inChans !== 3)
      throw new DinoscopeError(
        'BAD_INPUT',
        `--channels inflate widens an RGB model's patch embedding, and ${start.name} takes ${start.inChans} channels already${start.inChans === panel.channels ? ' (a model of this panel: --channels embed continues it)' : ''}.`,
      );
  }
  return route;
}

/** One line for a run's log: the panel, the route and what it means. */
export function channelRouteLine(route: TrainChannelRoute, panel: Panel): string {
  return `channels: ${route} on the ${panel.channels}-channel panel (${panel.names.join(', ')}): ${TRAIN_CHANNEL_EXPLAINED[route]}`;
}

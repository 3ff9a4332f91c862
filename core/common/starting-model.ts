// Which model a new pretraining run starts from by default. A foundation model (one imported from a file
// or downloaded — not a run's own teacher, not a freshly initialised baseline) is the better start: a
// short run that continues its pretraining on the project's images keeps what it learnt elsewhere, where a
// run from random weights spends its minutes relearning edges and colours. The Train panel, `dinoscope
// pretrain` and the demo all take this choice, so it lives here, beside the API types, for both sides.
import type { ModelInfo } from './api.js';

/** Sources of models that are not foundation models: a run's teacher (`run:NAME@STEP`) and `models init`'s
 * random baseline (`init:SEED`). */
const NOT_FOUNDATION = /^(run|init):/;

/** True for a model imported or downloaded into the project's or the user's models folder. */
export function isFoundationModel(m: Pick<ModelInfo, 'source'>): boolean {
  return !NOT_FOUNDATION.test(m.source);
}

/**
 * The default starting model of a new pretraining run: a foundation model of the project before one of the
 * user's models folder (the project's is the one chosen for these images), the newest first within each;
 * null when there is none (the run starts from scratch).
 */
export function defaultStartingModel<M extends Pick<ModelInfo, 'source' | 'location' | 'created' | 'id'>>(models: readonly M[]): M | null {
  const rank = (m: M): number => (m.location === 'project' ? 0 : 1);
  const found = models
    .filter(isFoundationModel)
    .sort((a, b) => rank(a) - rank(b) || b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
  return found[0] ?? null;
}

// Gram anchoring schedules (shared/reference/dino-recipes.md §3): the loss weight (cosine ramp-in to 2.0 in
// the Gram stage, constant 1.5 in high-resolution adaptation) and the Gram teacher refresh rule (a copy of
// the EMA teacher every R steps, at most 3 refreshes, in the Gram stage; fixed in high-res adaptation).
// Pure functions of the step index, so a resumed run reproduces them.

export const GRAM_STAGE_WEIGHT = 2.0;
export const HIGHRES_GRAM_WEIGHT = 1.5;
export const GRAM_REFRESH_EVERY = 10_000;
export const GRAM_MAX_REFRESHES = 3;

export type GramWeightSchedule =
  { kind: 'ramp'; weight: number; rampSteps: number; startStep?: number } | { kind: 'constant'; weight: number };

/** The Gram stage schedule: cosine ramp-in to `weight` over `rampSteps` (one epoch in the reference). */
export function gramStageWeights(rampSteps: number, weight = GRAM_STAGE_WEIGHT, startStep = 0): GramWeightSchedule {
  return { kind: 'ramp', weight, rampSteps, startStep };
}

/** High-resolution adaptation: a constant 1.5. */
export function highResWeights(weight = HIGHRES_GRAM_WEIGHT): GramWeightSchedule {
  return { kind: 'constant', weight };
}

/**
 * The Gram loss weight at `step`. Ramp: 0 before `startStep`, then w·(1 − cos(π·t))/2 with
 * t = (step − startStep)/rampSteps clamped to [0, 1], so it reaches w at startStep + rampSteps.
 */
export function gramWeight(s: GramWeightSchedule, step: number): number {
  if (s.kind === 'constant') return s.weight;
  if (!(s.rampSteps >= 0)) throw new RangeError(`gramWeight: rampSteps must be ≥ 0, got ${s.rampSteps}`);
  const rel = step - (s.startStep ?? 0);
  if (rel < 0) return 0;
  if (s.rampSteps === 0 || rel >= s.rampSteps) return s.weight;
  return (s.weight * (1 - Math.cos((Math.PI * rel) / s.rampSteps))) / 2;
}

export interface GramRefreshRule {
  /** Refresh the Gram teacher from the EMA teacher every this many steps (0: never, the teacher stays fixed). */
  every: number;
  maxRefreshes: number;
  /** First step of the Gram stage; refreshes count from here. */
  startStep?: number;
}

export const GRAM_STAGE_REFRESH: GramRefreshRule = { every: GRAM_REFRESH_EVERY, maxRefreshes: GRAM_MAX_REFRESHES };
export const HIGHRES_REFRESH: GramRefreshRule = { every: 0, maxRefreshes: 0 };

/** How many refreshes have happened once `step` has been reached (refreshes at start + k·every, k = 1…max). */
export function gramRefreshCount(rule: GramRefreshRule, step: number): number {
  if (rule.every <= 0 || rule.maxRefreshes <= 0) return 0;
  const rel = step - (rule.startStep ?? 0);
  if (rel <= 0) return 0;
  return Math.min(rule.maxRefreshes, Math.floor(rel / rule.every));
}

/** True when the Gram teacher should be replaced by a copy of the EMA teacher before running `step`. */
export function shouldRefreshGramTeacher(rule: GramRefreshRule, step: number): boolean {
  return gramRefreshCount(rule, step) > gramRefreshCount(rule, step - 1);
}

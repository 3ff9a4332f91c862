// A run's steps thinned for its charts. A run on a GPU makes 10^4–10^5 steps; the panel draws at most 1000
// points a curve, and redrawing from every step on each live event (≤ 10 a second) made the panel's work
// grow with the run until the page stalled (a 30 000-step run: ~0.2 s of work per event). The panel keeps a
// bounded list instead, and the host sends a run's history thinned the same way.
// The rule is the charts' own (renderer's downsample): each bucket of consecutive steps keeps its lowest and
// highest total loss, in step order, so spikes survive any number of thinnings. Also always kept: the first
// and last steps, steps where the probe set was evaluated (health: sparse by design, the health chart's only
// points) and steps whose values were not finite (what an alert points at).

/** What thinning reads of a step (TrainStepInfo has it). */
export interface ThinnableStep {
  step: number;
  losses: { total: number };
  health?: unknown;
  signals?: { nan: boolean };
}

function kept(s: ThinnableStep): boolean {
  return s.health !== undefined || s.signals?.nan === true || !Number.isFinite(s.losses.total);
}

/**
 * At most about `max` of `steps` (sorted by step), in step order: `steps` itself when it is no longer. The
 * always-kept steps come on top of the budget (they are a small share of any run: health every few hundred
 * steps).
 */
export function thinSteps<T extends ThinnableStep>(steps: readonly T[], max: number): T[] {
  if (steps.length <= max) return steps.slice();
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const size = (steps.length - 2) / buckets;
  const out: T[] = [steps[0]];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor(b * size);
    const end = Math.min(steps.length - 1, 1 + Math.floor((b + 1) * size));
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const s = steps[i];
      if (kept(s)) continue;
      if (lo < 0 || s.losses.total < steps[lo].losses.total) lo = i;
      if (hi < 0 || s.losses.total > steps[hi].losses.total) hi = i;
    }
    for (let i = start; i < end; i++) if (i === lo || i === hi || kept(steps[i])) out.push(steps[i]);
  }
  out.push(steps[steps.length - 1]);
  return out;
}

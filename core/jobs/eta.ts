// The one ETA of every job (imports, extraction, training, the demo, attention maps): the rate is items done
// over the time they took within a recent window of progress samples, so
//  - start-up (model loading, graph building) before the first item is never counted: the window opens at
//    the first sample that shows progress;
//  - bursts (many items reported within milliseconds, then a pause) average out: it is a ratio of sums over
//    the window, not a mean of per-update rates (which a burst sends to thousands per second);
//  - a change of speed (another job starts, a phase gets slower) shows within the window, not diluted by
//    everything since the start.
// A slow job (one item a minute) keeps at least `minItems` increments in its window, so its rate spans
// several items rather than the last one.

export interface EtaOptions {
  /** Samples older than this (before the newest) leave the window… */
  windowMs?: number;
  /** …unless the window would then span fewer progress increments than this. */
  minIncrements?: number;
}

interface Sample {
  t: number;
  done: number;
}

export class EtaEstimator {
  private readonly windowMs: number;
  private readonly minIncrements: number;
  /** Samples from the first one that showed progress (or the last reset) on, oldest first. */
  private samples: Sample[] = [];
  /** The sample before any progress: kept only to see the first increment. */
  private origin: Sample | null = null;

  constructor(opts: EtaOptions = {}) {
    this.windowMs = opts.windowMs ?? 30_000;
    this.minIncrements = opts.minIncrements ?? 3;
  }

  /** Forgets the past: after a pause or a restart the next progress opens a new window. */
  reset(): void {
    this.samples = [];
    this.origin = null;
  }

  /** `done` items at time `t` (ms). Going backwards (a restart from a checkpoint) resets. */
  add(t: number, done: number): void {
    const last = this.samples.at(-1) ?? this.origin;
    if (last && (done < last.done || t < last.t)) this.reset();
    if (this.samples.length === 0) {
      // Until the first increment only the starting point is known: the time before it is start-up.
      if (!this.origin || done === this.origin.done) {
        this.origin = { t, done };
        return;
      }
      this.origin = null;
    }
    const prev = this.samples.at(-1);
    if (prev && prev.done === done) return; // no progress: the window keeps the time of the last increment
    this.samples.push({ t, done });
    this.trim();
  }

  private trim(): void {
    const newest = this.samples[this.samples.length - 1];
    while (this.samples.length > this.minIncrements + 1 && newest.t - this.samples[1].t >= this.windowMs) this.samples.shift();
  }

  /** Items per second over the window; 0 until two samples with progress span some time. */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.t > a.t ? ((b.done - a.done) * 1000) / (b.t - a.t) : 0;
  }

  /** Seconds left to reach `total`, or null while the rate is unknown. */
  eta(total: number): number | null {
    const done = this.samples.at(-1)?.done ?? this.origin?.done ?? 0;
    if (done >= total) return 0;
    const r = this.rate();
    return r > 0 ? (total - done) / r : null;
  }
}

// Collapse alerts. DINO collapses in two ways (Caron et al. 2021, §5.3): every teacher
// target concentrates on one prototype (entropy → 0) or spreads uniformly over all K (entropy → ln K);
// either way the CLS features stop varying across the batch (effective rank → 1). A sign must hold for
// `sustain` consecutive steps after warm-up (lr and teacher-temperature warm-up move both signals on their
// own), so one noisy batch does not pause a run.
//
// Thresholds (fractions of ln K for the entropy), chosen for the small K and batches of the presets:
// - entropy < 0.05·ln K: about one prototype per target (K 4096: < 0.42 nats; a healthy run sits well
//   above 1 nat as the teacher temperature lets targets spread over a handful of prototypes);
// - entropy > 0.98·ln K: within 2 % of uniform (a healthy teacher at τ 0.04–0.07 stays far below) AND the
//   batch's CLS features spanning at most half of their possible rank (2B − 1). Uniform targets alone are
//   what a small model from scratch shows for its first hundreds of steps while its patch features already
//   learn through iBOT (core/train/quality measured this: DINO loss at ln K, retrieval precision rising);
//   pausing such runs would stop healthy training, so uniform targets count only with shrinking diversity;
// - effective rank ≤ 1.5: the batch's CLS features lie on one direction;
// - sustained over 20 steps, counted only after max(lr warm-up, teacher-temperature warm-up).

export interface CollapseThresholds {
  /** Entropy below this fraction of ln K. */
  lowEntropy: number;
  /** Entropy above this fraction of ln K. */
  highEntropy: number;
  /** Effective rank at or below this. */
  rank: number;
  /** Uniform targets count only while the effective rank is at most this fraction of its maximum. */
  uniformRankFraction: number;
  /** Consecutive steps a sign must hold. */
  sustain: number;
}

export const COLLAPSE_THRESHOLDS: Readonly<CollapseThresholds> = {
  lowEntropy: 0.05,
  highEntropy: 0.98,
  rank: 1.5,
  uniformRankFraction: 0.5,
  sustain: 20,
};

export interface CollapseSignals {
  teacherEntropy: number;
  featureRank: number;
}

/** Watches the per-step signals; `observe` returns a message once per sustained streak, else null. */
export class CollapseDetector {
  private streak = 0;
  private readonly t: CollapseThresholds;
  private readonly lnK: number;

  constructor(
    prototypes: number,
    /** Steps before which nothing counts (the run's warm-up). */
    private readonly warmupSteps: number,
    thresholds: Partial<CollapseThresholds> = {},
    /** The largest effective rank the batch allows: 2B − 1 for 2B global crops. */
    private readonly maxRank = Infinity,
  ) {
    this.t = { ...COLLAPSE_THRESHOLDS, ...thresholds };
    this.lnK = Math.log(prototypes);
  }

  /** Which sign the signals show now, or null. */
  sign(s: CollapseSignals): string | null {
    const ratio = s.teacherEntropy / this.lnK;
    if (ratio < this.t.lowEntropy)
      return `teacher entropy ${s.teacherEntropy.toFixed(3)} nats is near 0 (one prototype takes every target)`;
    if (ratio > this.t.highEntropy && s.featureRank <= this.t.uniformRankFraction * this.maxRank) {
      return `teacher entropy ${s.teacherEntropy.toFixed(3)} nats is near ln K = ${this.lnK.toFixed(3)} (uniform targets) and the CLS features span rank ${s.featureRank.toFixed(2)} of ${this.maxRank}`;
    }
    if (s.featureRank <= this.t.rank)
      return `feature rank ${s.featureRank.toFixed(2)} ≤ ${this.t.rank} (the CLS features lie on one direction)`;
    return null;
  }

  observe(step: number, s: CollapseSignals): string | null {
    const sign = step > this.warmupSteps ? this.sign(s) : null;
    this.streak = sign ? this.streak + 1 : 0;
    if (!sign || this.streak < this.t.sustain) return null;
    this.streak = 0; // a resumed run is alerted again only after another sustained streak
    return `The teacher looks collapsed at step ${step}: ${sign} for ${this.t.sustain} steps. The run is paused: resume anyway or stop it.`;
  }
}

/** The warm-up a detector skips: the longer of the lr and teacher-temperature warm-ups, in steps. */
export function warmupSteps(steps: number, warmupFraction: number, tempWarmupFraction: number): number {
  return Math.ceil(Math.max(warmupFraction, tempWarmupFraction) * steps);
}

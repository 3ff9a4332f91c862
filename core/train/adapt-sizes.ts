// Per-step crop sizes of high-resolution adaptation (recipe §4): one (global, local, gram) triple per step,
// drawn in step order by core/train/gram/sizes.ts SizeSampler. The crop workers' Prefetcher asks for steps
// ahead of the trainer and the trainer asks for the step it runs, so draws are memoised by step; the
// sampler state *before* a step's draw is what a checkpoint stores, so a resumed run draws the same sizes.
import { type RngState } from '../data/train/random.js';
import { type SizeEntry, type SizeTriple, SizeSampler } from './gram/sizes.js';

export class StepSizeSchedule {
  private readonly sampler: SizeSampler;
  private readonly drawn = new Map<number, { sizes: SizeTriple; before: RngState }>();
  private nextStep: number;

  /** Draws from step `startStep` on; `seedOrState` is the run seed (new run) or a checkpoint's state. */
  constructor(
    readonly table: readonly SizeEntry[],
    seedOrState: number | RngState,
    startStep = 0,
  ) {
    this.sampler = new SizeSampler(table, seedOrState);
    this.nextStep = startStep;
  }

  /** The triple of `step` (drawing every step up to it the first time). */
  at(step: number): SizeTriple {
    while (this.nextStep <= step) {
      const before = this.sampler.state();
      this.drawn.set(this.nextStep++, { sizes: this.sampler.next(), before });
    }
    const d = this.drawn.get(step);
    if (!d) throw new Error(`StepSizeSchedule: step ${step} is before the schedule's start or was forgotten`);
    return d.sizes;
  }

  /** The sampler state before the draw of `step` (what a checkpoint at `step` stores). */
  stateAt(step: number): RngState {
    if (step === this.nextStep) return this.sampler.state();
    const d = this.drawn.get(step);
    if (!d) throw new Error(`StepSizeSchedule: no state for step ${step}`);
    return d.before;
  }

  /** Drops memoised steps before `step` (the trainer has run them). */
  forget(step: number): void {
    for (const k of this.drawn.keys()) if (k < step) this.drawn.delete(k);
  }

  /** The largest global side of the table (the tile sampler's crop room is sized for it). */
  get maxGlobal(): number {
    return Math.max(...this.table.map((e) => e.global));
  }
}

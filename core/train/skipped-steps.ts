// Mixed precision's skipped steps (core/graph/amp.ts) in a run: the log line of each ("step 123 skipped:
// gradients overflowed in fp16; loss scale now 32768"; progress.jsonl keeps the step's `amp` record too),
// and when a run counts as diverged: every skip halves the loss scale (GradScaler's backoff), so after
// MAX_SKIPS_IN_ROW in a row (2¹⁶ → 2⁻¹⁴) the gradients are not finite at any scale and the run would skip
// forever without a word.
import type { RunStepReport } from './step-report.js';

export const MAX_SKIPS_IN_ROW = 30;

export class SkippedSteps {
  private inRow = 0;

  /** Skipped steps in a row up to the last one recorded. */
  get skipsInRow(): number {
    return this.inRow;
  }

  /**
   * Counts step `r`: its log line when it was skipped (null when it was applied, or fp32), and `diverged`
   * (the reason, in plain words) once MAX_SKIPS_IN_ROW steps in a row were skipped.
   */
  record(r: RunStepReport, stage: string): { line: string | null; diverged: string | null } {
    if (!r.amp?.skipped) {
      this.inRow = 0;
      return { line: null, diverged: null };
    }
    this.inRow++;
    const line = `${stage}: step ${r.step} skipped: gradients overflowed in fp16; loss scale now ${r.amp.lossScale}`;
    const diverged =
      this.inRow >= MAX_SKIPS_IN_ROW
        ? `gradients were not finite at ${this.inRow} steps in a row up to step ${r.step} (mixed precision skipped each and lowered the loss scale to ${r.amp.lossScale}): the run diverged.`
        : null;
    return { line, diverged };
  }
}

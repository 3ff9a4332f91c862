// The time estimate under the setup form, in words: how long a step budget takes on this computer, or how
// many steps a minutes budget buys, from the step the host measured (core/train/host/timing.ts).
import type { TrainEstimate, TrainTiming } from '../../../../core/common/api.js';

/** A duration rounded for an estimate: "40 s", "12 min", "1 h 58 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** Seconds a step: "7.1 s", "0.35 s", "120 ms". */
export function formatStepTime(seconds: number): string {
  if (seconds < 0.1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  return `${seconds < 10 ? +seconds.toPrecision(2) : Math.round(seconds)} s`;
}

/** The sentence for a timing answer and the budget chosen (null: nothing to say). */
export function timingText(t: TrainTiming | undefined, budget: 'steps' | 'minutes', minutes: number): string | null {
  if (!t) return null;
  if (t.state === 'measuring') return 'Timing one step of these settings on this computer…';
  if (t.state === 'busy') return t.message ?? 'No time estimate while a run trains.';
  if (t.state === 'failed') return `No time estimate: ${t.message ?? 'the timing step failed'}.`;
  const step = `${formatStepTime(t.secondsPerStep ?? 0)} a step, measured here`;
  const start = `${formatDuration(t.startupSeconds ?? 0)} to start`;
  if (budget === 'minutes')
    return `About ${(t.steps ?? 0).toLocaleString('en-US')} steps in ${formatDuration(minutes * 60)} on this computer (${step}; ${start}).`;
  return `About ${formatDuration(t.totalSeconds ?? 0)} on this computer (${step}; ${start}).`;
}

/** What an estimate request answers while it follows a form (followEstimate). */
export type EstimateState = { kind: 'asking' } | { kind: 'answer'; estimate: TrainEstimate } | { kind: 'error'; message: string };

/**
 * Asks for the estimate of a form's settings 400 ms after its last change, and again every 1.5 s while the
 * host is still timing a step ('measuring'); `show` gets each state. Returns the cancel for the form's next
 * change (an answer to older settings is dropped).
 */
export function followEstimate(
  ask: () => Promise<TrainEstimate>,
  show: (s: EstimateState) => void,
  errorText: (err: unknown) => string,
): () => void {
  let live = true;
  let t: ReturnType<typeof setTimeout>;
  const once = async (): Promise<void> => {
    try {
      const e = await ask();
      if (!live) return;
      show({ kind: 'answer', estimate: e });
      if (e.timing?.state === 'measuring') t = setTimeout(once, 1500);
    } catch (err) {
      if (live) show({ kind: 'error', message: errorText(err) });
    }
  };
  show({ kind: 'asking' });
  t = setTimeout(once, 400);
  return () => {
    live = false;
    clearTimeout(t);
  };
}

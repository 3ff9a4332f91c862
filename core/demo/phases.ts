// The demo's phases as shares of its one progress bar, in proportion to the time each takes, so that the
// job's ETA (core/jobs/eta.ts: rate over recent progress) holds across phases: a bar whose training share
// stayed at 65 % whatever the budget made the ETA during a 1-minute training 2.5 × short for the extraction
// after it. Seconds measured on the 2-core build machine under load (README: slides ~40 s, extraction of
// the four slides ~70 s; a Quick run starts in ~30 s) and the training budget itself.
export type DemoPhase = 'generating' | 'importing' | 'training' | 'extracting';

const SECONDS = { generating: 40, importing: 10, trainingStart: 30, extracting: 70 };

/** Each phase's [from, to] share of the bar for a training budget of `minutes`. */
export function demoPhases(minutes: number): Record<DemoPhase, readonly [number, number]> {
  const parts: [DemoPhase, number][] = [
    ['generating', SECONDS.generating],
    ['importing', SECONDS.importing],
    ['training', SECONDS.trainingStart + 60 * Math.max(0, minutes)],
    ['extracting', SECONDS.extracting],
  ];
  const sum = parts.reduce((s, [, v]) => s + v, 0);
  const out = {} as Record<DemoPhase, readonly [number, number]>;
  let at = 0;
  for (const [name, v] of parts) {
    out[name] = [at / sum, name === 'extracting' ? 1 : (at += v) / sum];
  }
  return out;
}

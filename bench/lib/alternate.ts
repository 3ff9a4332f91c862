// Alternating rounds: on a noisy, shared machine the sides take turns round by round (A B, B A, A B, …) so
// that a burst of load from someone else hits both sides alike, after a warm-up that is not timed.
import { BenchChild } from './child.js';

export interface AlternateResult {
  /** Per-round times in milliseconds, by side label, timed inside each child (start-up and IPC excluded). */
  ms: Record<string, number[]>;
  /** Peak RSS (VmHWM) of each side's process in bytes, read after the last round. */
  peakRss: Record<string, number | null>;
}

/**
 * Runs `warmup` untimed and `rounds` timed rounds of `command` on each child, alternating the order every
 * round. Each child must answer `command` with `{"ms": number}`.
 */
export async function alternate(
  children: readonly BenchChild[],
  rounds: number,
  warmup: number,
  command = 'round',
): Promise<AlternateResult> {
  const ms: Record<string, number[]> = Object.fromEntries(children.map((c) => [c.label, []]));
  for (let r = 0; r < warmup + rounds; r++) {
    const order = r % 2 === 0 ? children : [...children].reverse();
    const line: string[] = [];
    for (const c of order) {
      const reply = await c.ask(command);
      if (typeof reply.ms !== 'number') throw new Error(`${c.label}: expected {"ms": number}, got ${JSON.stringify(reply)}`);
      if (r >= warmup) ms[c.label].push(reply.ms);
      line.push(`${c.label} ${reply.ms.toFixed(0)} ms`);
    }
    process.stderr.write(`  ${r < warmup ? 'warm-up' : `round ${r - warmup + 1}/${rounds}`}: ${line.join(', ')}\n`);
  }
  const peakRss = Object.fromEntries(children.map((c) => [c.label, c.peakRss()]));
  return { ms, peakRss };
}

// Long loops of the analysis service (copying rows out of the index for a fit or a map) give the event
// loop a turn every ROWS_PER_TURN rows, so API calls and tile requests made meanwhile are answered
// between pieces instead of after the whole loop.

/** Rows copied between two turns: about a millisecond of work on an idle core. */
export const ROWS_PER_TURN = 1024;

/** Resolves on the event loop's next turn (after pending I/O callbacks). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

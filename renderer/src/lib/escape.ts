// Escape closes the topmost floating panel or dialog, and only that one. Each panel registers its close
// while it is open; the last registered (the one opened last, drawn on top) is closed first. A key
// handler inside a panel that uses Escape itself (clearing a chart readout) calls preventDefault.
const open: (() => void)[] = [];

function onKey(e: KeyboardEvent): void {
  if (e.key !== 'Escape' || e.defaultPrevented || open.length === 0) return;
  e.preventDefault();
  open[open.length - 1]();
}

/** Registers `close` for Escape while the panel is open; returns the unregister (an $effect's cleanup). */
export function closeOnEscape(close: () => void): () => void {
  if (open.length === 0) window.addEventListener('keydown', onKey);
  open.push(close);
  return () => {
    const i = open.lastIndexOf(close);
    if (i >= 0) open.splice(i, 1);
    if (open.length === 0) window.removeEventListener('keydown', onKey);
  };
}

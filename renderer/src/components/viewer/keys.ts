// Slide-viewer key bindings, as data: arrows/WASD pan, +/- zoom, 0/Home fit, F fullscreen, [ ] step.
export type ViewerAction =
  | { kind: 'pan'; fx: number; fy: number }
  | { kind: 'zoom'; factor: number }
  | { kind: 'fit' }
  | { kind: 'fullscreen' }
  | { kind: 'step'; step: 1 | -1 };

const PAN = 0.2;
const ZOOM = 2;

export function actionForKey(e: KeyboardEvent): ViewerAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const pan = e.shiftKey ? PAN * 2.5 : PAN;
  switch (e.key) {
    case 'ArrowLeft': case 'a': case 'A': return { kind: 'pan', fx: -pan, fy: 0 };
    case 'ArrowRight': case 'd': case 'D': return { kind: 'pan', fx: pan, fy: 0 };
    case 'ArrowUp': case 'w': case 'W': return { kind: 'pan', fx: 0, fy: -pan };
    case 'ArrowDown': case 's': case 'S': return { kind: 'pan', fx: 0, fy: pan };
    case '+': case '=': return { kind: 'zoom', factor: ZOOM };
    case '-': case '_': return { kind: 'zoom', factor: 1 / ZOOM };
    case '0': case 'Home': return { kind: 'fit' };
    case 'f': case 'F': return { kind: 'fullscreen' };
    case '[': return { kind: 'step', step: -1 };
    case ']': return { kind: 'step', step: 1 };
    default: return null;
  }
}

/** Keys typed into a field or while a dialog is open belong there, not to the viewer. */
export function keyBelongsElsewhere(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return true;
  return document.querySelector('[role="dialog"]') !== null;
}

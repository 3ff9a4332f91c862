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
    case 'ArrowLeft':
    case 'a':
    case 'A':
      return { kind: 'pan', fx: -pan, fy: 0 };
    case 'ArrowRight':
    case 'd':
    case 'D':
      return { kind: 'pan', fx: pan, fy: 0 };
    case 'ArrowUp':
    case 'w':
    case 'W':
      return { kind: 'pan', fx: 0, fy: -pan };
    case 'ArrowDown':
    case 's':
    case 'S':
      return { kind: 'pan', fx: 0, fy: pan };
    case '+':
    case '=':
      return { kind: 'zoom', factor: ZOOM };
    case '-':
    case '_':
      return { kind: 'zoom', factor: 1 / ZOOM };
    case '0':
    case 'Home':
      return { kind: 'fit' };
    case 'f':
    case 'F':
      return { kind: 'fullscreen' };
    case '[':
      return { kind: 'step', step: -1 };
    case ']':
      return { kind: 'step', step: 1 };
    default:
      return null;
  }
}

const textInputs = new Set(['text', 'search', 'number', 'email', 'password', 'url', 'tel']);
const sliderKeys = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End']);

/** Keys typed into a text field, arrows on a slider, and any key while a dialog is open belong there,
 * not to the viewer. A focused checkbox or button (say, after toggling a layer) does not take them. */
export function keyBelongsElsewhere(e: KeyboardEvent): boolean {
  if (document.querySelector('[role="dialog"]') !== null) return true;
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  if (t instanceof HTMLInputElement) return textInputs.has(t.type) || (t.type === 'range' && sliderKeys.has(e.key));
  return false;
}

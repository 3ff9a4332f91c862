// The viewer's dock: whether it is shown beside the slide, and which of its panels are collapsed to their
// title bar. Remembered across reloads and restarts in localStorage; a stored value that is not ours (or
// storage that is unavailable) means "shown, all expanded".
const KEY = 'dinoscope.dock.collapsed';
const HIDDEN_KEY = 'dinoscope.dock.hidden';

function load(): Record<string, boolean> {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter(([, c]) => typeof c === 'boolean')) as Record<string, boolean>;
  } catch {
    return {};
  }
}

function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the layout still applies for this session.
  }
}

function loadHidden(): boolean {
  try {
    return localStorage.getItem(HIDDEN_KEY) === 'true';
  } catch {
    return false;
  }
}

class DockLayout {
  collapsed = $state<Record<string, boolean>>(load());
  hidden = $state(loadHidden());

  setHidden(hidden: boolean): void {
    this.hidden = hidden;
    save(HIDDEN_KEY, hidden);
  }

  isCollapsed(id: string): boolean {
    return this.collapsed[id] === true;
  }

  setCollapsed(id: string, collapsed: boolean): void {
    this.collapsed = { ...this.collapsed, [id]: collapsed };
    save(KEY, this.collapsed);
  }
}

export const dock = new DockLayout();

// The viewer's dock: which of its panels are collapsed to their title bar. Remembered across reloads and
// restarts in localStorage; a stored value that is not ours (or storage that is unavailable) means
// "all expanded".
const KEY = 'dinoscope.dock.collapsed';

function load(): Record<string, boolean> {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter(([, c]) => typeof c === 'boolean')) as Record<string, boolean>;
  } catch {
    return {};
  }
}

class DockLayout {
  collapsed = $state<Record<string, boolean>>(load());

  isCollapsed(id: string): boolean {
    return this.collapsed[id] === true;
  }

  setCollapsed(id: string, collapsed: boolean): void {
    this.collapsed = { ...this.collapsed, [id]: collapsed };
    try {
      localStorage.setItem(KEY, JSON.stringify(this.collapsed));
    } catch {
      // Storage full or disabled: the layout still applies for this session.
    }
  }
}

export const dock = new DockLayout();

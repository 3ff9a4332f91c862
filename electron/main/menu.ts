// The application menu. Commands that need the UI (new/open project, import) reach the renderer as the
// contract's menuCommand event; Open Recent opens through the service directly (the UI follows the
// projectChanged event).
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand, RecentProject } from '../../core/common/api.js';

export interface MenuActions {
  isDev: boolean;
  appName: string;
  recent: readonly RecentProject[];
  command(command: MenuCommand): void;
  openRecent(path: string): void;
  about(): void;
}

export function menuTemplate(a: MenuActions): MenuItemConstructorOptions[] {
  const mac = process.platform === 'darwin';
  const recent: MenuItemConstructorOptions[] =
    a.recent.length > 0
      ? a.recent.map((r) => ({ label: `${r.name} — ${r.path}`, click: () => a.openRecent(r.path) }))
      : [{ label: 'No recent projects', enabled: false }];
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: () => a.command('new-project') },
      { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => a.command('open-project') },
      { label: 'Open Recent', submenu: recent },
      { type: 'separator' },
      { label: 'Import Images…', accelerator: 'CmdOrCtrl+I', click: () => a.command('import-images') },
      ...(mac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(a.isDev
        ? [
            { role: 'reload' } as const,
            { role: 'forceReload' } as const,
            { role: 'toggleDevTools' } as const,
            { type: 'separator' } as const,
          ]
        : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      { label: `About ${a.appName}`, click: () => a.about() },
      // Placeholder until the project has a public site; deliberately not a link (no remote content).
      { label: 'Project website: not published yet', enabled: false },
    ],
  };
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: a.appName,
          submenu: [
            { label: `About ${a.appName}`, click: () => a.about() },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
      ]
    : [];
  return [...appMenu, file, { role: 'editMenu' }, view, { role: 'windowMenu' }, help];
}

export function installMenu(actions: MenuActions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(actions)));
}

// The one main window and the session rules every page of the app lives under: sandboxed, isolated,
// no Node, no remote content, no navigation or new windows away from dinoscope://app, no permissions.
import { BrowserWindow, screen, type Session } from 'electron';
import { appOrigin } from './csp.js';
import { requestAllowed } from './dev-policy.js';
import { isAppUrl } from './dispatch.js';
import { fitToDisplays, loadWindowState, minWindowSize, saveWindowState, type WindowState } from './window-state.js';

/** Session-wide rules; call once for the session the window uses, before loading anything. `isDev`
 * (dev-policy.ts) lets DevTools' own devtools: and chrome-extension: pages through; nothing else does. */
export function hardenSession(session: Session, isDev: boolean): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    // Full screen (OpenSeadragon's full-page button) is the one request granted, and only to our page.
    callback(permission === 'fullscreen' && isAppUrl(details.requestingUrl));
  });
  session.setPermissionCheckHandler((_wc, permission, origin) => permission === 'fullscreen' && origin === appOrigin);
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !requestAllowed(details.url, isDev) });
  });
}

let pendingSave: Promise<void> = Promise.resolve();

/** Settles once the bounds saved when the window closed are on disk (main.ts waits for it on quit). */
export function windowStateSaved(): Promise<void> {
  return pendingSave;
}

export interface MainWindowOptions {
  preloadPath: string;
  /** Where the bounds are remembered (JSON in the user-data folder). */
  stateFile: string;
  isDev: boolean;
}

export async function createMainWindow(options: MainWindowOptions): Promise<BrowserWindow> {
  const state = fitToDisplays(
    await loadWindowState(options.stateFile),
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: minWindowSize.width,
    minHeight: minWindowSize.height,
    show: false,
    title: 'Dinoscope',
    backgroundColor: '#16181d',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: options.isDev,
    },
  });
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());

  const contents = win.webContents;
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayHome = (event: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => stayHome(event, event.url));
  contents.on('will-redirect', (event) => stayHome(event, event.url));
  contents.on('will-frame-navigate', (event) => stayHome(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());

  win.on('close', () => {
    const b = win.getNormalBounds();
    const saved: WindowState = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() };
    pendingSave = saveWindowState(options.stateFile, saved).catch((err: unknown) =>
      console.error('dinoscope: could not save the window bounds', err),
    );
  });

  await win.loadURL(`${appOrigin}/index.html`);
  return win;
}

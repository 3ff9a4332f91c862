// Electron's main process: one instance, one window, the dinoscope:// scheme, one IPC handler, the menu.
// The AppService is not here: it runs in the service process (electron/service/, started as a utility
// process), so no analysis, import or tile read ever holds up this event loop, and with it every window.
// Bundled by scripts/build.mjs to dist/electron/main.cjs (package.json "main").
import { app, BrowserWindow, dialog, session } from 'electron';
import path from 'node:path';
import type { DinoscopeApi } from '../../core/common/api.js';
import type { ServiceStart } from '../service/messages.js';
import { isDevelopmentBuild } from './dev-policy.js';
import { showOpenDialog } from './dialogs.js';
import { registerIpc, sendMenuCommand } from './ipc.js';
import { installMenu } from './menu.js';
import { registerSchemePrivileges, serveScheme } from './protocol.js';
import { createProtocolHandler } from './protocol-handler.js';
import { forkService } from './service-launch.js';
import { ServiceProcess, type CrashReport } from './service-process.js';
import { hasUtilityProcess, launchUtility } from './utility-launch.js';
import { createMainWindow, hardenSession, windowStateSaved } from './window.js';

// DevTools and their schemes only when run from the source tree; never in a packaged app (dev-policy.ts).
const isDev = isDevelopmentBuild(app);
let mainWindow: BrowserWindow | null = null;

function fail(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(`dinoscope: ${message}`);
  dialog.showErrorBox('Dinoscope could not start', message);
  app.exit(1);
}

async function openWindow(): Promise<void> {
  const root = app.getAppPath();
  mainWindow = await createMainWindow({
    preloadPath: path.join(root, 'dist', 'electron', 'preload.cjs'),
    stateFile: path.join(app.getPath('userData'), 'window-state.json'),
    isDev,
  });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

async function refreshMenu(service: DinoscopeApi): Promise<void> {
  const recent = await service.recentProjects().catch(() => []);
  installMenu({
    isDev,
    appName: app.getName(),
    recent,
    command: (command) => sendMenuCommand(mainWindow, command),
    openRecent: (projectPath) => {
      service.openProject(projectPath).catch((err: unknown) => {
        dialog.showErrorBox('Could not open the project', err instanceof Error ? err.message : String(err));
      });
    },
    about: () => {
      void dialog.showMessageBox({
        type: 'info',
        title: `About ${app.getName()}`,
        message: `${app.getName()} ${app.getVersion()}`,
        detail:
          'Annotation-free analysis of gigapixel images with self-supervised Vision Transformers.\n' +
          `Electron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}.`,
      });
    },
  });
}

/** A crash of the service process, told to the user on the window (it has been restarted, or not). */
function reportCrash(report: CrashReport): void {
  console.error(`dinoscope: ${report.message}`);
  const options = {
    type: 'error' as const,
    title: 'Dinoscope',
    message: report.restarted ? "Dinoscope's engine was restarted" : "Dinoscope's engine stopped",
    detail: report.message,
  };
  void (mainWindow && !mainWindow.isDestroyed() ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options));
}

async function start(): Promise<void> {
  // The AppService (and its image-reading threads) in a utility process; a forked Node process where the
  // electron module has none (the main-process tests' stand-in).
  const serviceStart: ServiceStart = { version: app.getVersion(), homeDir: app.getPath('home') };
  const engine = new ServiceProcess({
    launch: () => (hasUtilityProcess() ? launchUtility(serviceStart) : forkService(serviceStart)),
    showOpenDialog: (kind) => showOpenDialog(mainWindow, kind),
    onCrash: reportCrash,
  });
  const service = engine.api;
  hardenSession(session.defaultSession, isDev);
  serveScheme(
    createProtocolHandler({
      rendererRoot: path.join(app.getAppPath(), 'dist', 'renderer'),
      routeAsset: (pathname) => engine.asset(pathname),
    }),
  );
  registerIpc(service, engine, () => mainWindow);
  engine.on('projectChanged', () => void refreshMenu(service));
  await refreshMenu(service);
  await openWindow();
  // `npm start -- --project P` (scripts/start.mjs passes it on as --project=<absolute path>).
  const projectArg = process.argv.find((a) => a.startsWith('--project='))?.slice('--project='.length);
  if (projectArg) {
    service.openProject(path.resolve(projectArg)).catch((err: unknown) => {
      dialog.showErrorBox('Could not open the project', err instanceof Error ? err.message : String(err));
    });
  }

  app.on('activate', () => {
    // macOS: clicking the dock icon with no window open opens one.
    if (BrowserWindow.getAllWindows().length === 0) openWindow().catch(fail);
  });
  // Let running jobs stop and project files settle (in the service process) before the app exits.
  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    closed = true;
    Promise.all([engine.close(), windowStateSaved()])
      .catch((err: unknown) => console.error('dinoscope: closing the project failed', err))
      .finally(() => app.quit());
  });
}

// DINOSCOPE_USER_DATA: a separate profile (window state, single-instance lock), e.g. for e2e tests.
if (process.env.DINOSCOPE_USER_DATA) app.setPath('userData', path.resolve(process.env.DINOSCOPE_USER_DATA));
// Sandbox every renderer, whatever a window's options say; the scheme must be privileged before ready.
app.enableSandbox();
registerSchemePrivileges();

if (!app.requestSingleInstanceLock()) {
  // Another Dinoscope is running: it focuses its window (second-instance below); this one leaves.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('web-contents-created', (_event, contents) => {
    // Belt and braces for any webContents (devtools included): no new windows, no webviews.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.whenReady().then(start).catch(fail);
}

// The main process's wiring, run for real (the bundled main.ts from esbuild, as scripts/build.mjs makes
// it) in a Node child process with a recording stand-in for the `electron` module, since Electron's
// binary cannot run here. Checks the order of start-up, the window's security options, the registered
// scheme and IPC handler end to end (through the AppService in its service process, started by the
// stand-in's utilityProcess.fork as a Node child with an Electron-like process.parentPort), the session
// rules, the menu, a crash of the service process (told to the user, restarted, project reopened) and quit
// (the service process ends).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cjsImportMeta } from '../../scripts/cjs-import-meta.mjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from './csp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;
let report: Record<string, unknown>;

// The stand-in: records what main.ts asks of Electron, then drives the registered handlers.
const fakeElectron = String.raw`
const Module = require('node:module');
const { fork } = require('node:child_process');
const { EventEmitter } = require('node:events');
const calls = [];
const log = (name, detail) => calls.push(detail === undefined ? name : [name, detail]);
const listeners = {};
let protocolHandler = null, ipcHandler = null, permissionRequest = null, permissionCheck = null, beforeRequest = null, menuTemplate = null;
const windows = [];
const utilityChildren = [];
class WebContents { constructor() { this.id = 41; this.sent = []; this.events = {}; this.openHandler = null; this.mainFrame = { url: '', parent: null }; }
  setWindowOpenHandler(h) { this.openHandler = h; } on(e, l) { this.events[e] = l; return this; } send(...a) { this.sent.push(a); } getURL() { return this.mainFrame.url; } }
class BrowserWindow {
  constructor(options) { this.options = options; this.webContents = new WebContents(); windows.push(this); log('BrowserWindow', options.webPreferences); }
  static getAllWindows() { return windows; }
  once() { return this; } on() { return this; } maximize() {} isMaximized() { return false; } isDestroyed() { return false; }
  getNormalBounds() { return { x: 0, y: 0, width: 1400, height: 900 }; }
  async loadURL(url) { this.webContents.mainFrame.url = url; log('loadURL', url); }
}
const app = {
  isPackaged: process.env.FAKE_PACKAGED === '1',
  getPath: (n) => process.env.FAKE_DIR + '/' + n, setPath: (n, p) => log('setPath', n),
  getAppPath: () => process.env.FAKE_APP, getVersion: () => '0.1.0-fake', getName: () => 'Dinoscope',
  enableSandbox: () => log('enableSandbox'), requestSingleInstanceLock: () => { log('requestSingleInstanceLock'); return true; },
  quit: () => log('quit'), exit: (c) => log('exit', c),
  on: (e, l) => { listeners[e] = l; }, whenReady: () => { log('whenReady'); return new Promise((r) => setTimeout(r, 10)); },
};
const electron = {
  app, BrowserWindow,
  protocol: { registerSchemesAsPrivileged: (s) => log('registerSchemesAsPrivileged', s), handle: (scheme, h) => { log('protocol.handle', scheme); protocolHandler = h; } },
  session: { defaultSession: { setPermissionRequestHandler: (h) => { permissionRequest = h; }, setPermissionCheckHandler: (h) => { permissionCheck = h; }, webRequest: { onBeforeRequest: (h) => { beforeRequest = h; } } } },
  ipcMain: { handle: (ch, h) => { log('ipcMain.handle', ch); ipcHandler = h; }, removeHandler: () => {} },
  screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  dialog: { showErrorBox: (t, m) => log('showErrorBox', t + ': ' + m), showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showMessageBox: async (a, b) => { const o = b || a; log('showMessageBox', o.message + ': ' + o.detail); return {}; } },
  // A utility process as a Node child: the stand-in parent port (fake-parent-port.cjs) gives it
  // process.parentPort as Electron does; messages go by structured clone both ways.
  utilityProcess: { fork: (modulePath, args, options) => {
    log('utilityProcess.fork', options.serviceName);
    const child = fork(modulePath, args, { execArgv: ['--require', process.env.FAKE_DIR + '/fake-parent-port.cjs'], serialization: 'advanced', stdio: ['ignore', 2, 2, 'ipc'] });
    const u = new EventEmitter();
    child.on('message', (m) => u.emit('message', m));
    child.on('exit', (code) => u.emit('exit', code === null ? -1 : code));
    u.pid = child.pid; u.postMessage = (m) => child.send(m); u.kill = () => child.kill();
    utilityChildren.push(u);
    return u;
  } },
  Menu: { buildFromTemplate: (t) => { menuTemplate = t; return t; }, setApplicationMenu: () => log('setApplicationMenu') },
};
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'electron' ? electron : load.call(this, request, ...rest); };

const ready = () => calls.includes('setApplicationMenu') && calls.some((c) => Array.isArray(c) && c[0] === 'loadURL');
const waitReady = (deadline) => new Promise((resolve, reject) => {
  const poll = () => (ready() ? resolve() : Date.now() > deadline ? reject(new Error('main.ts never opened its window: ' + JSON.stringify(calls))) : setTimeout(poll, 25));
  poll();
});
waitReady(Date.now() + 30000).then(async () => {
  const out = { calls };
  const win = windows[0];
  const page = await protocolHandler(new Request('dinoscope://app/index.html'));
  out.page = { status: page.status, csp: page.headers.get('content-security-policy'), body: await page.text() };
  const escape = await protocolHandler(new Request('dinoscope://app/%2e%2e%2fsecret.txt'));
  out.escape = escape.status;
  const sender = { id: win.webContents.id };
  out.appInfo = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'appInfo', []);
  out.subframe = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: {} } }, 'appInfo', []);
  out.foreign = await ipcHandler({ sender: { id: 99 }, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'appInfo', []);
  out.unknown = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'rm', ['-rf']);
  out.created = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'createProject', [process.env.FAKE_DIR + '/project', 'Wired']);
  // An image imported over IPC, then its thumbnail and a tile through the scheme: read by the reader pool's threads.
  out.imported = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'importPaths', [[process.env.FAKE_DIR + '/sample.png']]);
  const imageId = out.imported.ok ? out.imported.ok.added[0].id : 'none';
  const asset = async (url) => { const r = await protocolHandler(new Request(url)); return { status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength }; };
  out.thumb = await asset('dinoscope://assets/thumbs/' + imageId + '.jpg');
  out.tile = await asset('dinoscope://assets/tiles/' + imageId + '/9/0_0.jpeg');
  out.sentEvents = win.webContents.sent.map((s) => [s[0], s[1]]);
  out.windowOpen = win.webContents.openHandler({ url: 'https://example.com' });
  let prevented = 0; const ev = (url) => ({ url, preventDefault: () => prevented++ });
  win.webContents.events['will-navigate'](ev('https://example.com/'));
  win.webContents.events['will-navigate'](ev('dinoscope://app/index.html#x'));
  out.navigationsPrevented = prevented;
  out.permissions = await Promise.all([['geolocation', 'dinoscope://app/'], ['media', 'dinoscope://app/'], ['fullscreen', 'dinoscope://app/index.html'], ['fullscreen', 'https://example.com/']].map(([p, url]) => new Promise((r) => permissionRequest(null, p, r, { requestingUrl: url }))));
  out.permissionCheck = [permissionCheck(null, 'notifications', 'dinoscope://app'), permissionCheck(null, 'fullscreen', 'dinoscope://app')];
  out.requests = ['dinoscope://assets/tiles/x', 'https://example.com/a.js', 'http://127.0.0.1:8484/', 'file:///etc/passwd', 'data:image/png;base64,AA', 'devtools://devtools/bundled/inspector.html', 'chrome-extension://abcdef/page.js'].map((url) => { let v; beforeRequest({ url }, (r) => { v = r.cancel; }); return [url, v]; });
  out.menu = menuTemplate.map((m) => ({ label: m.label || m.role, items: Array.isArray(m.submenu) ? m.submenu.map((i) => i.label || i.role || i.type) : [] }));
  const file = menuTemplate.find((m) => m.label === 'File');
  file.submenu.find((i) => i.label === 'Import Images…').click();
  out.menuEvent = win.webContents.sent.at(-1);
  out.listeners = Object.keys(listeners).sort();
  const until = (what, test) => new Promise((resolve, reject) => {
    const deadline = Date.now() + 30000;
    const poll = () => (test() ? resolve() : Date.now() > deadline ? reject(new Error('never: ' + what)) : setTimeout(poll, 25));
    poll();
  });
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  // The service process crashes: the user is told, a new one starts and reopens the project.
  const first = utilityChildren[0];
  process.kill(first.pid, 'SIGKILL');
  await until('the crash was reported', () => calls.some((c) => Array.isArray(c) && c[0] === 'showMessageBox'));
  out.crashMessage = calls.find((c) => Array.isArray(c) && c[0] === 'showMessageBox')[1];
  out.afterCrash = await ipcHandler({ sender, senderFrame: { url: 'dinoscope://app/index.html', parent: null } }, 'currentProject', []);
  out.thumbAfterCrash = await asset('dinoscope://assets/thumbs/' + imageId + '.jpg');
  // Quit: the service process closes the project and ends before the app does.
  let quitPrevented = false;
  listeners['will-quit']({ preventDefault: () => { quitPrevented = true; } });
  await until('the app quit', () => calls.includes('quit'));
  out.quitPrevented = quitPrevented;
  out.services = utilityChildren.length;
  out.servicesAlive = utilityChildren.map((c) => alive(c.pid));
  process.stdout.write('REPORT' + JSON.stringify(out));
  process.exit(0);
}).catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

let packaged: Record<string, unknown>;

// What a utility process gets from Electron: process.parentPort, whose messages arrive as { data }; and it
// ends with the app.
const fakeParentPort = String.raw`
const { EventEmitter } = require('node:events');
const port = new EventEmitter();
port.postMessage = (m) => process.send(m);
process.on('message', (m) => port.emit('message', { data: m }));
process.on('disconnect', () => process.exit(0));
process.parentPort = port;
`;

/** Runs the bundled main.ts under the stand-in with `env` added; resolves to its report. */
function runMain(outfile: string, env: Record<string, string>): Record<string, unknown> {
  const stdout = execFileSync(process.execPath, ['--require', path.join(dir, 'fake-electron.cjs'), outfile], {
    encoding: 'utf8',
    env: {
      ...process.env,
      FAKE_DIR: dir,
      FAKE_APP: path.join(dir, 'app'),
      DINOSCOPE_HOME: path.join(dir, 'home'),
      DINOSCOPE_USER_DATA: path.join(dir, 'profile'),
      ...env,
    },
    timeout: 60_000,
  });
  return JSON.parse(stdout.slice(stdout.indexOf('REPORT') + 'REPORT'.length)) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-main-'));
  await mkdir(path.join(dir, 'app', 'dist', 'renderer'), { recursive: true });
  await writeFile(path.join(dir, 'app', 'dist', 'renderer', 'index.html'), '<!doctype html><title>wired</title>');
  await writeFile(path.join(dir, 'app', 'dist', 'secret.txt'), 'secret');
  await writeFile(path.join(dir, 'fake-electron.cjs'), fakeElectron);
  await writeFile(path.join(dir, 'fake-parent-port.cjs'), fakeParentPort);
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 160, b: 90 } } })
    .png()
    .toFile(path.join(dir, 'sample.png'));
  // Bundled as scripts/build.mjs bundles it, into the repository so its externals resolve, laid out as
  // dist/ is: electron/main.cjs and service.worker.cjs, and the reader pool's worker in cli/ beside them
  // (ESM, as in dist/cli).
  const bundleDir = path.join(root, 'node_modules', '.cache', `dinoscope-main-test-${process.pid}`);
  const outfile = path.join(bundleDir, 'electron', 'main.cjs');
  const external = ['electron', 'sharp', 'onnxruntime-node', 'ws', 'geotiff', 'zarrita'];
  const electronEntries = {
    main: path.join(root, 'electron/main/main.ts'),
    'service.worker': path.join(root, 'electron/service/service.worker.ts'),
  };
  await build({
    ...cjsImportMeta,
    entryPoints: electronEntries,
    outdir: path.dirname(outfile),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
    logLevel: 'silent',
  });
  await build({
    entryPoints: [path.join(root, 'core/reader-pool/reader.worker.ts')],
    outfile: path.join(bundleDir, 'cli', 'reader.worker.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await writeFile(path.join(bundleDir, 'cli', 'package.json'), '{"type":"module"}');
  try {
    report = runMain(outfile, { FAKE_PACKAGED: '0' });
    // A packaged app, with the variable that used to turn DevTools back on set.
    packaged = runMain(outfile, { FAKE_PACKAGED: '1', DINOSCOPE_DEV: '1', DINOSCOPE_USER_DATA: path.join(dir, 'profile-packaged') });
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('main process wiring', () => {
  it('registers the scheme and the sandbox before ready, then serves, handles IPC and opens one window', () => {
    const names = (report.calls as (string | [string, unknown])[]).map((c) => (Array.isArray(c) ? c[0] : c));
    const at = (n: string): number => names.indexOf(n);
    for (const n of [
      'enableSandbox',
      'registerSchemesAsPrivileged',
      'requestSingleInstanceLock',
      'whenReady',
      'protocol.handle',
      'ipcMain.handle',
      'BrowserWindow',
      'loadURL',
    ])
      expect(at(n), n).toBeGreaterThanOrEqual(0);
    expect(at('registerSchemesAsPrivileged')).toBeLessThan(at('whenReady'));
    expect(at('enableSandbox')).toBeLessThan(at('whenReady'));
    expect(at('protocol.handle')).toBeLessThan(at('loadURL'));
    expect(names).not.toContain('showErrorBox');
    expect(names).not.toContain('exit');
    const calls = report.calls as [string, unknown][];
    const schemes = calls.find((c) => c[0] === 'registerSchemesAsPrivileged')?.[1];
    expect(schemes).toEqual([
      { scheme: 'dinoscope', privileges: expect.objectContaining({ standard: true, secure: true, supportFetchAPI: true }) },
    ]);
    const prefs = calls.find((c) => c[0] === 'BrowserWindow')?.[1];
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
    expect(String((prefs as { preload: string }).preload)).toMatch(/dist[/\\]electron[/\\]preload\.cjs$/);
    expect(calls.find((c) => c[0] === 'loadURL')?.[1]).toBe('dinoscope://app/index.html');
    expect(calls.find((c) => c[0] === 'ipcMain.handle')?.[1]).toBe('dinoscope:call');
    expect(report.listeners).toEqual(expect.arrayContaining(['second-instance', 'window-all-closed', 'web-contents-created', 'will-quit']));
    // The AppService runs in a utility process, started before the scheme and IPC are served.
    expect(calls.find((c) => c[0] === 'utilityProcess.fork')?.[1]).toBe('Dinoscope engine');
    expect(at('utilityProcess.fork')).toBeLessThan(at('protocol.handle'));
  });

  it('tells the user when the service process crashes, restarts it with the project reopened, and ends it on quit', () => {
    expect(report.crashMessage).toMatch(
      /^Dinoscope's engine was restarted: Dinoscope's engine \(the process that reads images and runs analyses\) stopped unexpectedly \(exit code -1\)\. It has been restarted and your project reopened\./,
    );
    expect(report.afterCrash).toEqual({
      ok: expect.objectContaining({
        name: 'Wired',
        path: path.join(dir, 'project'),
        images: [expect.objectContaining({ name: 'sample.png' })],
      }),
    });
    expect(report.thumbAfterCrash).toEqual({ status: 200, type: 'image/jpeg', bytes: expect.any(Number) });
    expect(report.quitPrevented).toBe(true);
    expect(report.services).toBe(2);
    expect(report.servicesAlive).toEqual([false, false]);
  });

  it('serves the renderer with the CSP and refuses escapes', () => {
    expect(report.page).toEqual({ status: 200, csp: contentSecurityPolicy, body: '<!doctype html><title>wired</title>' });
    expect(report.escape).toBe(403);
  });

  it('answers the window over IPC and refuses anyone else', () => {
    expect(report.appInfo).toEqual({ ok: expect.objectContaining({ host: 'electron', version: '0.1.0-fake', nativeDialogs: true }) });
    expect(report.subframe).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    expect(report.foreign).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    expect(report.unknown).toEqual({ error: expect.objectContaining({ code: 'NOT_FOUND' }) });
    expect(report.created).toEqual({ ok: expect.objectContaining({ name: 'Wired', path: path.join(dir, 'project') }) });
    expect(report.sentEvents).toContainEqual(['dinoscope:event', 'projectChanged']);
  });

  it('reads images through the reader pool: an import over IPC, then its thumbnail and tiles over the scheme', () => {
    expect(report.imported).toEqual({
      ok: expect.objectContaining({ added: [expect.objectContaining({ name: 'sample.png', status: 'ok' })], failed: [] }),
    });
    expect(report.thumb).toEqual({ status: 200, type: 'image/jpeg', bytes: expect.any(Number) });
    expect(report.tile).toEqual({ status: 200, type: 'image/jpeg', bytes: expect.any(Number) });
    expect((report.tile as { bytes: number }).bytes).toBeGreaterThan(100);
  });

  it('denies new windows, foreign navigation, permissions and remote requests', () => {
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.navigationsPrevented).toBe(1);
    expect(report.permissions).toEqual([false, false, true, false]);
    expect(report.permissionCheck).toEqual([false, true]);
    expect(report.requests).toEqual([
      ['dinoscope://assets/tiles/x', false],
      ['https://example.com/a.js', true],
      ['http://127.0.0.1:8484/', true],
      ['file:///etc/passwd', true],
      ['data:image/png;base64,AA', false],
      // A development build (not packaged): DevTools' own pages load.
      ['devtools://devtools/bundled/inspector.html', false],
      ['chrome-extension://abcdef/page.js', false],
    ]);
  });

  it('gives a packaged app no DevTools, whatever DINOSCOPE_DEV says: window option, menu and schemes', () => {
    const calls = packaged.calls as [string, unknown][];
    expect(calls.find((c) => c[0] === 'BrowserWindow')?.[1]).toMatchObject({ devTools: false, sandbox: true, contextIsolation: true });
    expect((report.calls as [string, unknown][]).find((c) => c[0] === 'BrowserWindow')?.[1]).toMatchObject({ devTools: true });
    const view = (packaged.menu as { label: string; items: string[] }[]).find((m) => m.label === 'View');
    expect(view?.items).not.toContain('toggleDevTools');
    expect(view?.items).not.toContain('reload');
    expect(packaged.requests).toEqual([
      ['dinoscope://assets/tiles/x', false],
      ['https://example.com/a.js', true],
      ['http://127.0.0.1:8484/', true],
      ['file:///etc/passwd', true],
      ['data:image/png;base64,AA', false],
      ['devtools://devtools/bundled/inspector.html', true],
      ['chrome-extension://abcdef/page.js', true],
    ]);
  });

  it('builds the menu and sends menu commands to the page as events', () => {
    const menu = report.menu as { label: string; items: string[] }[];
    const file = menu.find((m) => m.label === 'File');
    expect(file?.items).toEqual(expect.arrayContaining(['New Project…', 'Open Project…', 'Open Recent', 'Import Images…', 'quit']));
    const view = menu.find((m) => m.label === 'View');
    expect(view?.items).toEqual(expect.arrayContaining(['zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen', 'toggleDevTools']));
    expect(menu.find((m) => m.label === 'help')?.items).toEqual(['About Dinoscope', 'Project website: not published yet']);
    expect(report.menuEvent).toEqual(['dinoscope:event', 'menuCommand', { command: 'import-images' }]);
  });
});

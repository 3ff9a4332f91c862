// `npm start`: build what is missing or stale, then launch the Electron app; where Electron's binary is
// missing and cannot be fetched (or there is no display, or it dies at launch), serve the same UI to the
// browser with `dinoscope serve` instead.
//   npm start [-- --project P] [--port N] [--host H]
// Environment: DINOSCOPE_SERVE=1 goes straight to the browser; ELECTRON_SKIP_BINARY_DOWNLOAD=1 never
// downloads Electron; DINOSCOPE_NO_BUILD=1 skips rebuilding stale (but present) outputs;
// DINOSCOPE_ELECTRON_TIMEOUT_S bounds the binary look-up and download (default 300).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What each build target (scripts/build.mjs) reads and writes. */
export const targets = {
  cli: { sources: ['core', 'bin'], outputs: ['dist/cli/main.js'] },
  electron: { sources: ['electron', 'core'], outputs: ['dist/electron/main.cjs', 'dist/electron/preload.cjs'] },
  renderer: { sources: ['renderer', 'core/common'], outputs: ['dist/renderer/index.html'] },
};
const buildInputs = ['scripts/build.mjs', 'package.json'];

/** Newest modification time (ms) of the source files under `rel` (tests and .d.ts ignored). */
function newestSource(base, rel) {
  const full = path.join(base, rel);
  if (!existsSync(full)) return 0;
  const info = statSync(full);
  if (info.isFile()) return info.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(base, path.join(rel, entry.name)));
    else if (!/\.(test|e2e)\.ts$|\.d\.ts$/.test(entry.name)) newest = Math.max(newest, statSync(path.join(full, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The build targets among `wanted` whose outputs are missing or older than their sources.
 * @param {string} base the project root
 * @param {string[]} wanted target names
 * @param {{ missingOnly?: boolean }} [options] missingOnly: ignore staleness, report only missing outputs
 * @returns {string[]}
 */
export function staleTargets(base, wanted, options = {}) {
  return wanted.filter((name) => {
    const t = targets[name];
    const outputs = t.outputs.map((o) => path.join(base, o));
    if (outputs.some((o) => !existsSync(o))) return true;
    if (options.missingOnly) return false;
    const oldestOutput = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
    const newestInput = Math.max(...[...t.sources, ...buildInputs].map((s) => newestSource(base, s)));
    return newestInput > oldestOutput;
  });
}

/**
 * Where Electron's binary is, without downloading: node_modules/electron/path.txt names it (and
 * ELECTRON_OVERRIDE_DIST_PATH relocates it, as electron/index.js does). null when absent.
 * @param {string} base
 * @param {NodeJS.ProcessEnv} env
 * @returns {string | null}
 */
export function installedElectron(base, env) {
  const pkg = path.join(base, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, name || 'electron');
    return existsSync(p) ? p : null;
  }
  if (!name) return null;
  const p = path.join(pkg, 'dist', name);
  return existsSync(p) ? p : null;
}

/**
 * Electron's binary, downloading it if allowed: `require('electron')` downloads lazily, so it runs in a
 * child process with a timeout, and a hang or failure becomes a reason.
 * @returns {{ path: string } | { reason: string }}
 */
export function resolveElectron(base, env, timeoutMs) {
  const present = installedElectron(base, env);
  if (present) return { path: present };
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD) return { reason: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set' };
  if (!existsSync(path.join(base, 'node_modules', 'electron', 'index.js'))) return { reason: 'the electron package is not installed' };
  process.stderr.write("start: Electron's binary is not installed yet; downloading it (once)…\n");
  const marker = '\nDINOSCOPE_ELECTRON_PATH=';
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(${JSON.stringify(marker)} + require('electron'))`], {
    cwd: base,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (r.error && /ETIMEDOUT/.test(String(r.error.code)))
    return { reason: `the download did not finish within ${Math.round(timeoutMs / 1000)} s` };
  const found = (r.stdout ?? '').split(marker)[1]?.trim();
  if (r.status === 0 && found && existsSync(found)) return { path: found };
  if (r.status === 0 && found) return { reason: `electron names ${found}, which does not exist` };
  const errorLine = `${r.stderr ?? ''}\n${r.stdout ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^\w*Error\b|^Error:|failed/i.test(l));
  return { reason: errorLine ?? `the download exited with ${r.status ?? r.signal}` };
}

/** The flags `npm start` forwards to `dinoscope serve` (the rest go to Electron). */
export function splitArgs(argv) {
  const serve = [];
  const electron = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(project|port|host)(?:=(.*))?$/.exec(a);
    if (!m) {
      electron.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    serve.push(`--${m[1]}`, value);
    if (m[1] === 'project') electron.push(`--project=${path.resolve(value)}`);
  }
  return { serve, electron };
}

function build(names) {
  if (names.length === 0) return;
  process.stderr.write(`start: building ${names.join(', ')}…\n`);
  const r = spawnSync(process.execPath, ['scripts/build.mjs', ...names], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`start: the build failed (exit ${r.status ?? r.signal}); fix the errors above and run npm start again.\n`);
    process.exit(r.status || 1);
  }
}

function ensureBuilt(names) {
  build(staleTargets(root, names, { missingOnly: process.env.DINOSCOPE_NO_BUILD === '1' }));
}

/** Relays SIGINT/SIGTERM to the child and leaves with its exit code. */
function follow(child) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}

/** The links of `dinoscope serve`'s stdout line ({url, viewerUrl, …} as JSON, or a bare URL), else null. */
function servedLinks(line) {
  if (/^https?:\/\//.test(line)) return { url: line };
  if (!line.startsWith('{')) return null;
  try {
    const v = JSON.parse(line);
    return typeof v.url === 'string' ? { url: v.url, viewerUrl: typeof v.viewerUrl === 'string' ? v.viewerUrl : undefined } : null;
  } catch {
    return null;
  }
}

function serve(serveArgs) {
  ensureBuilt(['cli', 'renderer']);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'dinoscope.js'), 'serve', ...serveArgs], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      const links = servedLinks(line);
      if (links)
        process.stdout.write(
          `\nDinoscope is ready: open ${links.url}\n` + (links.viewerUrl ? `Read-only link for others: ${links.viewerUrl}\n\n` : '\n'),
        );
      else if (line) process.stdout.write(line + '\n');
    }
  });
  follow(child);
}

/** Launches Electron; resolves false when it fails or dies within the first seconds (then we serve
 * instead), true once it has run for 5 s (from then on its exit is ours). */
function launchElectron(binary, electronArgs) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    const started = Date.now();
    const child = spawn(binary, [root, ...electronArgs], { cwd: root, env, stdio: 'inherit' });
    let state = 'starting'; // → 'running' | 'failed'
    const giveUp = (why) => {
      if (state !== 'starting') return;
      state = 'failed';
      clearTimeout(timer);
      process.stderr.write(`start: Electron ${why}.\n`);
      resolve(false);
    };
    const timer = setTimeout(() => {
      state = 'running';
      resolve(true);
    }, 5000);
    child.on('error', (err) => giveUp(`could not be started (${err.message})`));
    child.on('exit', (code, signal) => {
      if (state === 'failed') return;
      if (state === 'starting' && code !== 0) return giveUp(`exited at launch (${code ?? signal}, after ${Date.now() - started} ms)`);
      clearTimeout(timer);
      process.exit(code ?? 1);
    });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => state !== 'failed' && child.kill(sig));
  });
}

async function main() {
  let args;
  try {
    args = splitArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`start: ${err.message}\n`);
    process.exit(2);
  }
  if (process.env.DINOSCOPE_SERVE === '1') {
    process.stderr.write('start: DINOSCOPE_SERVE=1: serving the UI to your browser.\n');
    return serve(args.serve);
  }
  const timeoutMs = Number(process.env.DINOSCOPE_ELECTRON_TIMEOUT_S || 300) * 1000;
  const electron = resolveElectron(root, process.env, timeoutMs);
  if ('reason' in electron) {
    process.stderr.write(
      `start: Electron's binary is not installed and could not be downloaded (${electron.reason}); serving the same UI to your browser instead.\n`,
    );
    return serve(args.serve);
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.stderr.write(
      'start: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set) to show the Electron window; serving the same UI to your browser instead.\n',
    );
    return serve(args.serve);
  }
  ensureBuilt(['electron', 'renderer']);
  if (await launchElectron(electron.path, args.electron)) return;
  process.stderr.write('start: serving the same UI to your browser instead.\n');
  serve(args.serve);
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) await main();

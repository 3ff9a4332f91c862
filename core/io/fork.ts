// Starting a child entry with an IPC channel: the training worker (core/train/host/worker.ts,
// train.worker.js) and the hardware probe (core/hardware/probe-worker.ts, probe.worker.js) are found and
// forked the same way. The bundled file: `<name>.worker.js` beside the running bundle — dist/cli/*.worker.js
// (esbuild entries in scripts/build.mjs) next to dist/cli/main.js, or reached from Electron's
// dist/electron/main.cjs as ../cli/<name>.worker.js. In the source tree (vitest, tsx) only the .ts source
// exists; it runs under Node with tsx's loader (`--import tsx`, resolved from the working directory, i.e.
// the repository root), as core/data/train/prefetch.ts does for its crop workers.
// Under Electron, process.execPath is the Electron binary: ELECTRON_RUN_AS_NODE=1 makes it plain Node.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * This module's URL. Inside the CommonJS bundle of Electron's main process, scripts/build.mjs defines
 * import.meta.url as the bundle file's URL (CommonJS has no import.meta of its own).
 */
function hereUrl(): URL {
  return new URL(import.meta.url);
}

export interface WorkerFile {
  path: string;
  /** A .ts source: runs with tsx's loader. */
  ts: boolean;
}

/**
 * A child entry: `bundled` (e.g. train.worker.js) beside the bundle, else the .ts `source`, a path under
 * core/ (e.g. 'train/host/worker.ts'), run with tsx.
 */
export function findWorker(bundled: string, source: string): WorkerFile {
  const here = hereUrl();
  for (const rel of [`./${bundled}`, `../cli/${bundled}`]) {
    const p = fileURLToPath(new URL(rel, here));
    if (existsSync(p)) return { path: p, ts: false };
  }
  const ts = fileURLToPath(new URL(`../${source}`, here));
  if (existsSync(ts)) return { path: ts, ts: true };
  throw new Error(`The worker ${bundled} was not found beside the application bundle: run \`npm run build\`.`);
}

/** Forks a worker entry with an IPC channel ('advanced' serialisation); stdout/stderr go to `log` line by line. */
export function forkWorker(w: WorkerFile, log: (line: string) => void, args: readonly string[] = []): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  const child = fork(w.path, [...args], {
    execArgv: w.ts ? ['--import', 'tsx'] : [],
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) log(l);
    });
    stream?.on('end', () => {
      if (buf.trim()) log(buf);
    });
  }
  return child;
}

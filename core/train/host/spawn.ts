// Starting a training child process (and the hardware probe's: probe-worker.ts, probe.worker.js, found and
// forked the same way). The worker file: `train.worker.js` beside the running bundle —
// dist/cli/train.worker.js (an esbuild entry in scripts/build.mjs) next to dist/cli/main.js, or reached
// from Electron's dist/electron/main.cjs as ../cli/train.worker.js. In the source tree (vitest, tsx) only
// worker.ts exists; it runs under Node with tsx's loader (`--import tsx`, resolved from the working
// directory, i.e. the repository root), as core/data/train/prefetch.ts does for its crop workers.
// Under Electron, process.execPath is the Electron binary: ELECTRON_RUN_AS_NODE=1 makes it plain Node.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** This module's URL: import.meta.url in ESM, __filename inside a CommonJS bundle (Electron main). */
function hereUrl(): URL | null {
  const meta = import.meta as { url?: unknown };
  if (typeof meta.url === 'string' && meta.url) return new URL(meta.url);
  return typeof __filename === 'string' ? pathToFileURL(__filename) : null;
}

export interface WorkerFile {
  path: string;
  /** A .ts source: runs with tsx's loader. */
  ts: boolean;
}

/** A child entry: `bundled` (e.g. train.worker.js) beside the bundle, else `source` beside this file (tsx). */
export function findWorker(bundled: string, source: string): WorkerFile {
  const here = hereUrl();
  if (here) {
    for (const rel of [`./${bundled}`, `../cli/${bundled}`]) {
      const p = fileURLToPath(new URL(rel, here));
      if (existsSync(p)) return { path: p, ts: false };
    }
    const ts = fileURLToPath(new URL(`./${source}`, here));
    if (existsSync(ts)) return { path: ts, ts: true };
  }
  throw new Error(`The worker ${bundled} was not found beside the application bundle: run \`npm run build\`.`);
}

/** The training worker to run: a built .js entry, or the .ts source (needs tsx). */
export function trainWorkerPath(): WorkerFile {
  return findWorker('train.worker.js', 'worker.ts');
}

/** Forks the training worker with an IPC channel; stdout/stderr are piped to `log` line by line. */
export function forkTrainWorker(log: (line: string) => void, workerPath?: string): ChildProcess {
  return forkWorker(workerPath ? { path: workerPath, ts: workerPath.endsWith('.ts') } : trainWorkerPath(), log);
}

/** Forks a worker entry with an IPC channel ('advanced' serialisation); stdout/stderr go to `log` line by line. */
export function forkWorker(w: WorkerFile, log: (line: string) => void, args: readonly string[] = []): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  const child = fork(w.path, [...args], { execArgv: w.ts ? ['--import', 'tsx'] : [], env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
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

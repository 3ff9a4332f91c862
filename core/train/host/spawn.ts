// Starting a training child process: `train.worker.js` beside the running bundle (dist/cli/train.worker.js,
// an esbuild entry in scripts/build.mjs), or worker.ts under tsx in the source tree. Finding and forking
// are core/io/fork.ts's (the hardware probe's child uses them too).
import type { ChildProcess } from 'node:child_process';
import { findWorker, forkWorker, type WorkerFile } from '../../io/fork.js';

/** The training worker to run: a built .js entry, or the .ts source (needs tsx). */
export function trainWorkerPath(): WorkerFile {
  return findWorker('train.worker.js', 'train/host/worker.ts');
}

/** Forks the training worker with an IPC channel; stdout/stderr are piped to `log` line by line. */
export function forkTrainWorker(log: (line: string) => void, workerPath?: string): ChildProcess {
  return forkWorker(workerPath ? { path: workerPath, ts: workerPath.endsWith('.ts') } : trainWorkerPath(), log);
}

// Starting a worker thread: the crop workers of training (crops.worker) and the search-index scan threads
// (scan.worker). The script is found as forked children are (fork.ts findWorker): the bundled
// `<name>.worker.js` beside the running bundle or at ../cli/ from Electron's main bundle, else the .ts
// source, which a thread runs by registering tsx's loader first (the source tree under vitest or tsx).
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { findWorker } from './fork.js';

/** Starts the thread entry `bundled` (e.g. 'scan.worker.js'), or its `source` under core/ (e.g. 'features/index/scan.worker.ts'). */
export function startThread(bundled: string, source: string): Worker {
  const file = findWorker(bundled, source);
  if (!file.ts) return new Worker(file.path);
  const url = pathToFileURL(file.path).href;
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true });
}

// The k-means and PCA fits of the analysis service run in one worker thread (fit.worker.ts), started on
// the first fit and kept for the next (it does not keep the process alive). A fit takes seconds on a
// large collection: on the calling thread it would hold up every other API call meanwhile. The sample is
// drawn here (it reads the index) and moved to the thread; the model comes back.
import type { Worker } from 'node:worker_threads';
import { fromEnvelope } from '../common/errors.js';
import type { KMeansModel, KMeansOptions } from '../features/kmeans.js';
import type { PcaModel } from '../features/pca.js';
import { startThread } from '../io/thread.js';
import type { FromFitThread, ToFitThread } from './fit-protocol.js';
import type { PcaFit } from './pca-maps.js';

type Request = ToFitThread extends infer T ? (T extends ToFitThread ? Omit<T, 'id'> : never) : never;

let thread: { worker: Worker; pending: Map<number, { resolve(v: unknown): void; reject(e: Error): void }> } | null = null;
let nextId = 1;

function fitThread(): NonNullable<typeof thread> {
  if (thread) return thread;
  const worker = startThread('fit.worker.js', 'analysis/fit.worker.ts');
  worker.unref();
  const t = { worker, pending: new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>() };
  worker.on('message', (m: FromFitThread) => {
    const p = t.pending.get(m.id);
    t.pending.delete(m.id);
    if ('error' in m) p?.reject(fromEnvelope(m.error));
    else p?.resolve(m.ok);
    if (t.pending.size === 0) worker.unref();
  });
  const fail = (err: Error): void => {
    if (thread === t) thread = null;
    for (const p of t.pending.values()) p.reject(err);
    t.pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`The analysis thread stopped (exit code ${code}).`)));
  return (thread = t);
}

function request<T>(req: Request): Promise<T> {
  const t = fitThread();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    t.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    t.worker.ref(); // a fit in flight keeps the process alive until it answers
    t.worker.postMessage({ ...req, id }, [req.data.buffer as ArrayBuffer]); // sampleRows gives each sample its own ArrayBuffer
  });
}

/** kmeans(data, n, d, options) in the fit thread; `data` (n, d) is moved there (unusable here after). */
export function kmeansInThread(data: Float32Array, d: number, options: KMeansOptions): Promise<KMeansModel> {
  return request({ op: 'kmeans', data, d, options });
}

/** fitSamplePca in the fit thread; `data` (n, d) is moved there. */
export function pcaInThread(data: Float32Array, d: number, threshold: number | null, base?: PcaModel): Promise<PcaFit> {
  return request({ op: 'pca', data, d, threshold, ...(base && { base }) });
}

// Fit thread entry (worker_threads): k-means and PCA fits, so the thread that answers the API (the serve
// host's, the desktop app's service process) is never held up by them. Bundled as dist/cli/fit.worker.js
// by scripts/build.mjs; in the source tree fit-thread.ts boots it through tsx.
import { parentPort } from 'node:worker_threads';
import { toEnvelope } from '../common/errors.js';
import { kmeans } from '../features/kmeans.js';
import type { FromFitThread, ToFitThread } from './fit-protocol.js';
import { fitSamplePca } from './pca-maps.js';

const port = parentPort;
if (!port) throw new Error('fit.worker.ts must run in a worker thread');
port.on('message', (m: ToFitThread) => {
  let reply: FromFitThread;
  try {
    const ok = m.op === 'kmeans' ? kmeans(m.data, m.data.length / m.d, m.d, m.options) : fitSamplePca(m.data, m.d, m.threshold, m.base);
    reply = { id: m.id, ok };
  } catch (err) {
    reply = { id: m.id, error: toEnvelope(err) };
  }
  port.postMessage(reply);
});

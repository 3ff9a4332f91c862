// Crop worker entry (worker_threads): holds one TileSampler and produces batches on request. Bundled as
// dist/cli/crops.worker.js by scripts/build.mjs; in the source tree the Prefetcher boots it through tsx.
import { type MessagePort, parentPort } from 'node:worker_threads';
import { toEnvelope } from '../../common/errors.js';
import { type BatchConfig, produceBatch } from './batch.js';
import { type BatchMessage, type FromWorker, type ToWorker, transferList } from './protocol.js';
import { TileSampler } from './sampler.js';

function workerPort(): MessagePort {
  if (!parentPort) throw new Error('crops.worker.ts must run in a worker thread');
  return parentPort;
}
const port = workerPort();

let sampler: TileSampler | null = null;
let config: BatchConfig | null = null;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

// Requests are handled one at a time, in order, so a worker never holds two batches' memory at once.
let chain: Promise<void> = Promise.resolve();

async function handle(msg: ToWorker): Promise<void> {
  try {
    if (msg.type === 'init') {
      sampler = new TileSampler(msg.plan);
      config = msg.config;
      send({ type: 'ready', id: msg.id });
    } else if (msg.type === 'produce') {
      if (!sampler || !config) throw new Error('crop worker: produce before init');
      const t0 = performance.now();
      const b = await produceBatch(sampler, config, msg.step, msg.sizes);
      const m: BatchMessage = {
        type: 'batch',
        id: msg.id,
        step: b.step,
        global: b.crops.global,
        local: b.crops.local,
        gram: b.crops.gram ?? null,
        sizes: b.sizes ?? { global: config.crops.globalSize, local: config.crops.localSize, gram: config.gramSize ?? 0 },
        masks: b.masks.masks,
        indices: b.masks.indices,
        weights: b.masks.weights,
        count: b.masks.count,
        upperBound: b.masks.upperBound,
        tiles: b.tiles,
        ms: performance.now() - t0,
      };
      send(m, transferList(m));
    } else {
      await sampler?.close();
      sampler = null;
      send({ type: 'closed', id: msg.id });
      port.close();
    }
  } catch (err) {
    send({ type: 'error', id: msg.id, error: toEnvelope(err) });
  }
}

port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

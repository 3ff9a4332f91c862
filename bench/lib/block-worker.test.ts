// The bench's own side, at a tiny size and without PyTorch: the worker compiles the block, answers rounds
// with timings, and its process reports a peak RSS (what `npm run bench -- block` relies on).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alternate } from './alternate.js';
import { BenchChild } from './child.js';

const worker = fileURLToPath(new URL('./block-worker.ts', import.meta.url));
const tiny = ['--batch', '2', '--tokens', '5', '--dim', '16', '--heads', '2', '--mlp', '64'];

describe('block-worker serve', () => {
  it('starts, times rounds and quits', async () => {
    const w = new BenchChild('ours', process.execPath, ['--import', 'tsx', worker, 'serve', '--threads', '1', ...tiny]);
    try {
      const ready = await w.next();
      expect(ready.ready).toBe(true);
      const res = await alternate([w], 2, 1);
      expect(res.ms.ours).toHaveLength(2);
      for (const ms of res.ms.ours) expect(ms).toBeGreaterThan(0);
      expect(res.peakRss.ours).toBeGreaterThan(10e6);
    } finally {
      await w.close();
    }
  });
});

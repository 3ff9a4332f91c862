// The fit thread gives exactly the fits of the calling thread (same code, same seeds), moves errors back
// with their code, and leaves the calling thread free while it fits.
import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 as rng } from '../common/random.js';
import { kmeans } from '../features/kmeans.js';
import { kmeansInThread, pcaInThread } from './fit-thread.js';
import { fitSamplePca } from './pca-maps.js';

/** n rows of dimension d around 4 directions, seeded. */
function sample(n: number, d: number): Float32Array {
  const noise = gaussian(rng(7));
  const out = new Float32Array(n * d); // (n, d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (j % 4 === i % 4 ? 1 : 0) + 0.2 * noise();
  return out;
}

describe('fit thread', () => {
  it('fits k-means and PCA exactly as on the calling thread', async () => {
    const d = 32;
    const options = { k: 4, seed: 3, spherical: true, restarts: 2, iterations: 20 };
    const here = kmeans(sample(3000, d), 3000, d, options);
    const there = await kmeansInThread(sample(3000, d), d, options);
    expect(there.k).toBe(4);
    expect(Array.from(there.centroids)).toEqual(Array.from(here.centroids));
    const pcaHere = fitSamplePca(sample(2000, d), d, 0);
    const pcaThere = await pcaInThread(sample(2000, d), d, 0);
    expect(Array.from(pcaThere.fg.components)).toEqual(Array.from(pcaHere.fg.components));
    expect(pcaThere.ranges).toEqual(pcaHere.ranges);
    expect(pcaThere.samples).toBe(2000);
  }, 60_000);

  it('brings an error back with its code and plain message', async () => {
    await expect(pcaInThread(sample(2000, 16), 16, 1e9)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('lower it'),
    });
    await expect(kmeansInThread(sample(2000, 16), 16, { k: 0 })).rejects.toMatchObject({
      name: expect.any(String),
      message: expect.any(String),
    });
  }, 60_000);

  it('leaves the calling thread free while it fits', async () => {
    const d = 128;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    await kmeansInThread(sample(8000, d), d, { k: 8, seed: 1, spherical: true, batchSize: 1024, iterations: 60 });
    const ms = performance.now() - started;
    clearInterval(timer);
    console.log(`k-means in the fit thread: ${ms.toFixed(0)} ms, ${ticks} ticks of a 5 ms timer meanwhile`);
    // Not vacuous: the fit took a while; the timer ran all along it (at least a tick per 50 ms, generous
    // for a loaded 2-core machine).
    expect(ms).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(ms / 50);
  }, 60_000);
});

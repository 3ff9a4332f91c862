// Worker-thread prefetching on a real slide-like PNG: step order, reproducibility across worker counts and
// resumption, a sleeping consumer that never waits after warm-up, errors naming the file, clean shutdown.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK_CROPS } from './augment/multicrop.js';
import { type BatchConfig, produceBatch } from './batch.js';
import { Prefetcher } from './prefetch.js';
import { Rng } from './random.js';
import { buildSamplingPlan, type SamplingPlan, TileSampler } from './sampler.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-prefetch-'));
const slidePath = join(dir, 'slide.png');
let plan: SamplingPlan;
// Small crops keep the suite fast; the Quick/Standard sizes are measured by `npm run bench -- crops`.
const config: BatchConfig = {
  seed: 17,
  batchSize: 4,
  patchSize: 16,
  crops: { ...QUICK_CROPS, globalSize: 64, localSize: 32, localCrops: 4 },
};

beforeAll(async () => {
  const w = 900,
    h = 700;
  const rgb = new Uint8Array(w * h * 3).fill(245);
  const rng = Rng.seeded(2);
  for (let y = 100; y < 600; y++)
    for (let x = 150; x < 800; x++) rgb.set([200 - rng.int(0, 60), 80 + rng.int(0, 40), 160], 3 * (y * w + x));
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(slidePath);
  plan = await buildSamplingPlan([{ id: 'slide', path: slidePath }], { tileSize: 96 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('Prefetcher', () => {
  it('yields batches in step order with (2B, 3, G, G) / (nL·B, 3, L, L) crops and (2B, N) masks, reproducibly', async () => {
    const one = await Prefetcher.start({ plan, config, workers: 1 });
    const a = [await one.next(), await one.next(), await one.next(), await one.next()];
    expect(a.map((b) => b.step)).toEqual([0, 1, 2, 3]);
    expect(a[0].crops.global.length).toBe(2 * 4 * 3 * 64 * 64);
    expect(a[0].crops.local.length).toBe(4 * 4 * 3 * 32 * 32);
    expect(a[0].masks.masks.length).toBe(2 * 4 * 16);
    expect(a[0].masks.indices.length).toBe(a[0].masks.upperBound);
    expect(one.step).toBe(4);
    await one.close();

    // Two workers, and a run resumed at step 2: the same bytes for the same steps.
    const two = await Prefetcher.start({ plan, config, workers: 2 });
    const b = [await two.next(), await two.next(), await two.next()];
    await two.close();
    const resumed = await Prefetcher.start({ plan, config, workers: 1, startStep: 2 });
    const c = await resumed.next();
    await resumed.close();
    for (let i = 0; i < 3; i++) {
      expect(bytes(b[i].crops.global).equals(bytes(a[i].crops.global))).toBe(true);
      expect(bytes(b[i].crops.local).equals(bytes(a[i].crops.local))).toBe(true);
      expect(bytes(b[i].masks.masks).equals(bytes(a[i].masks.masks))).toBe(true);
    }
    expect(c.step).toBe(2);
    expect(bytes(c.crops.global).equals(bytes(a[2].crops.global))).toBe(true);
    // And the same as producing it on this thread.
    const here = await produceBatch(new TileSampler(plan), config, 1);
    expect(bytes(here.crops.local).equals(bytes(a[1].crops.local))).toBe(true);
    expect(a[0].tiles).toHaveLength(4);
  });

  it('a consumer that sleeps like a trainer never waits after warm-up', async () => {
    // The trainer's step must outlast a batch's production (else no pipeline can keep up): measure a batch on
    // this thread first and make the fake step 2.5× that, since this machine's load varies from run to run.
    const sampler = new TileSampler(plan);
    const t0 = performance.now();
    for (let i = 0; i < 2; i++) await produceBatch(sampler, config, 100 + i);
    await sampler.close();
    const stepMs = Math.min(2000, Math.max(100, (2.5 * (performance.now() - t0)) / 2));
    const p = await Prefetcher.start({ plan, config, workers: 1, depth: 3 });
    for (let i = 0; i < 8; i++) {
      await p.next();
      await sleep(stepMs);
    }
    const s = p.stats();
    await p.close();
    const produce = s.produceMs.reduce((x, y) => x + y, 0) / s.produceMs.length;
    const afterWarmup = s.waits.slice(2);
    const waited = afterWarmup.reduce((x, y) => x + y, 0);
    console.log(
      `prefetch: step ${stepMs.toFixed(0)} ms, ${produce.toFixed(1)} ms per batch in the worker; waits after warm-up ${afterWarmup.map((w) => w.toFixed(1)).join(' ')} ms`,
    );
    expect(waited).toBeLessThan(0.05 * stepMs * afterWarmup.length); // the consumer (almost) never blocks
  });

  it('propagates a worker error naming the file, and shuts down cleanly', async () => {
    const broken = join(dir, 'broken.png');
    copyFileSync(slidePath, broken);
    const brokenPlan = await buildSamplingPlan([{ id: 'b', path: broken }], { tileSize: 96 });
    writeFileSync(broken, 'not an image any more');
    const p = await Prefetcher.start({ plan: brokenPlan, config, workers: 1 });
    await expect(p.next()).rejects.toThrow(/broken\.png/);
    await p.close();

    const q = await Prefetcher.start({ plan, config, workers: 1 });
    await q.next();
    await q.close();
    await expect(q.next()).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

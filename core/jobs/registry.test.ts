// The job registry: progress events with a moving-average rate and ETA, completion states, cancellation.
import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../common/api.js';
import { Job, JobRegistry } from './registry.js';

describe('Job', () => {
  it('derives the rate from a moving average and the ETA from it', () => {
    let t = 0;
    const seen: JobProgress[] = [];
    const job = new Job('import', 'Importing', 100, (p) => seen.push(p), () => t);
    job.progress(0);
    t = 1000;
    job.progress(10); // 10/s
    expect(job.snapshot().rate).toBeCloseTo(10);
    expect(job.snapshot().etaSeconds).toBeCloseTo(9);
    t = 2000;
    job.progress(30); // 20/s → 0.3·20 + 0.7·10 = 13
    expect(job.snapshot().rate).toBeCloseTo(13);
    expect(job.snapshot().etaSeconds).toBeCloseTo(70 / 13);
    job.finish('done');
    expect(seen.at(-1)).toMatchObject({ state: 'done', done: 100, total: 100, etaSeconds: 0 });
    job.progress(50);
    expect(seen.at(-1)?.state).toBe('done');
  });

  it('throttles running updates but always delivers the last one', () => {
    let t = 0;
    const seen: JobProgress[] = [];
    const job = new Job('import', 'x', 3, (p) => seen.push(p), () => t);
    job.progress(1);
    t = 10;
    job.progress(2);
    t = 20;
    job.progress(3);
    expect(seen.map((p) => p.done)).toEqual([1, 3]);
  });
});

describe('JobRegistry', () => {
  it('runs work as a job and reports done, failed and cancelled', async () => {
    const reg = new JobRegistry();
    const states: string[] = [];
    reg.on((p) => p.state !== 'running' && states.push(`${p.label}:${p.state}`));
    expect(await reg.run('import', 'ok', 1, async () => 42)).toBe(42);
    await expect(reg.run('import', 'bad', 1, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const cancelled = reg.run('pyramid-cache', 'slow', 10, async (job) => {
      await new Promise((r) => setTimeout(r, 20));
      job.throwIfCancelled();
    });
    reg.cancel(reg.running()[0].jobId);
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(states).toEqual(['ok:done', 'bad:failed', 'slow:cancelled']);
    expect(reg.running()).toEqual([]);
    expect(() => reg.cancel('nope')).toThrow(/No running job/);
  });
});

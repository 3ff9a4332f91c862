// The job registry: progress events with a recent-window rate and ETA, completion states, cancellation.
import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../common/api.js';
import { Job, JobRegistry } from './registry.js';

describe('Job', () => {
  it('takes the rate and ETA from recent progress, leaving start-up out (eta.ts)', () => {
    let t = 0;
    const seen: JobProgress[] = [];
    const job = new Job(
      'import',
      'Importing',
      100,
      (p) => seen.push(p),
      () => t,
    );
    job.progress(0);
    t = 5000;
    job.progress(10); // the first progress after 5 s of start-up: no rate yet
    expect(job.snapshot().etaSeconds).toBeNull();
    t = 6000;
    job.progress(20); // 10/s from the first progress on
    expect(job.snapshot().rate).toBeCloseTo(10);
    expect(job.snapshot().etaSeconds).toBeCloseTo(8);
    t = 7000;
    job.progress(40); // 30 items in 2 s
    expect(job.snapshot().rate).toBeCloseTo(15);
    expect(job.snapshot().etaSeconds).toBeCloseTo(4);
    // A hold (a paused run): the wait does not count; the rate restarts after the next two updates.
    t = 60_000;
    job.hold();
    expect(job.snapshot().etaSeconds).toBeNull();
    t = 61_000;
    job.progress(50);
    t = 62_000;
    job.progress(60);
    expect(job.snapshot().rate).toBeCloseTo(10);
    job.finish('done');
    expect(seen.at(-1)).toMatchObject({ state: 'done', done: 100, total: 100, etaSeconds: 0 });
    job.progress(50);
    expect(seen.at(-1)?.state).toBe('done');
  });

  it('throttles running updates but always delivers the last one', () => {
    let t = 0;
    const seen: JobProgress[] = [];
    const job = new Job(
      'import',
      'x',
      3,
      (p) => seen.push(p),
      () => t,
    );
    job.progress(1);
    t = 10;
    job.progress(2);
    t = 20;
    job.progress(3);
    expect(seen.map((p) => p.done)).toEqual([1, 3]);
  });

  it('delivers a notice at once, even inside the throttle interval, so a later update cannot hide it', () => {
    let t = 0;
    const seen: JobProgress[] = [];
    const job = new Job(
      'train',
      'run',
      30,
      (p) => seen.push(p),
      () => t,
    );
    job.progress(5, 30, 'step 5');
    t = 10;
    job.progress(5, 30, 'The training process was killed; restarting it from the last checkpoint (step 5), restart 1.', true);
    t = 20;
    job.progress(5, 30, 'Starting: restarting the training process');
    expect(seen.map((p) => p.message)).toEqual([
      'step 5',
      'The training process was killed; restarting it from the last checkpoint (step 5), restart 1.',
    ]);
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

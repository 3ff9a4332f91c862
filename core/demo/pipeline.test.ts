// Cancelling the demo at each phase leaves a consistent folder, and running it again resumes: slides
// already written are kept (same file, not rewritten), a run stopped mid-way continues from its checkpoint
// (same run, not a new one), extraction stopped mid-way finishes; the last run reports every phase done.
// Real slides, the --tiny model trained in this process, real extraction.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultFormats } from '../app/formats.js';
import { Project } from '../project/project.js';
import type { RunRecord } from '../train/run.js';
import { demoPlan } from './options.js';
import { runDemo, type DemoSummary } from './pipeline.js';
import { trainInProcess } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-cancel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const demo = join(dir, 'demo');
const plan = demoPlan({ tiny: true, dir: demo }, dir, 6);

/** Runs the demo, aborting at the first progress message matching `at` (never when null). */
async function run(at: RegExp | null): Promise<{ summary: DemoSummary | null; error: unknown; messages: string[] }> {
  const controller = new AbortController();
  const messages: string[] = [];
  try {
    const summary = await runDemo(plan, {
      signal: controller.signal,
      progress: (_done, _total, message) => {
        messages.push(message);
        if (at && at.test(message)) controller.abort();
      },
      formats: defaultFormats,
      train: trainInProcess,
      log: () => undefined,
    });
    return { summary, error: null, messages };
  } catch (error) {
    return { summary: null, error, messages };
  }
}

const demoRun = async (): Promise<RunRecord | undefined> =>
  (await Project.open(demo)).runs().find((r) => (r as RunRecord).name === 'demo') as RunRecord | undefined;

describe('demo cancel and resume', () => {
  it('cancelled while generating, training and extracting; each rerun resumes; the last finishes', async () => {
    const a = await run(/^generating slide 1\//);
    expect(a.error).toMatchObject({ code: 'CANCELLED' });
    const slide1 = join(demo, 'slides', 'demo-slide-1.tif');
    const written = statSync(slide1).mtimeMs;

    const b = await run(/^training step 2\//);
    expect(b.error).toMatchObject({ code: 'CANCELLED' });
    expect(statSync(slide1).mtimeMs).toBe(written);
    expect(b.messages.filter((m) => m.startsWith('generating slide'))).toEqual([
      'generating slide 1/3',
      'generating slide 2/3',
      'generating slide 3/3',
    ]);
    const stopped = await demoRun();
    expect(stopped?.status).toBe('stopped');
    expect(stopped?.checkpointStep).toBeGreaterThanOrEqual(2);
    expect(stopped?.checkpointStep).toBeLessThan(6);

    const c = await run(/^extracting 1[0-9]\//);
    expect(c.error).toMatchObject({ code: 'CANCELLED' });
    expect(c.messages).toContain(`resuming training run demo`);
    expect(c.messages.some((m) => m === `training step ${stopped!.checkpointStep! + 1}/6`)).toBe(true);
    expect((await demoRun())?.status).toBe('done');
    const partial = (await Project.open(demo)).featureSets()[0];
    expect(partial.images.some((e) => !e.complete || e.indexedRows === 0) || partial.images.length < 4).toBe(true);

    const d = await run(null);
    expect(d.error).toBeNull();
    expect(d.messages.some((m) => m.startsWith('training'))).toBe(false);
    const s = d.summary!;
    expect([s.started, s.run, s.steps, s.model, s.images.length]).toEqual(['resume', 'demo', 6, 'demo', 4]);
    const done = (await Project.open(demo)).featureSets().find((f) => f.id === s.featureSet)!;
    expect(done.images).toHaveLength(4);
    expect(done.images.every((e) => e.complete && e.indexedRows > 0)).toBe(true);
    expect(s.patches).toBe(done.images.reduce((n, e) => n + e.indexedRows, 0));
    expect(d.messages[d.messages.length - 1]).toBe('done');
  }, 180_000);
});

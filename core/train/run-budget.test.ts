// Run lengths that change after the start, on a real project with the --tiny model: a minutes budget ends on
// time when the step time changes mid-run (a slow phase, as when other work takes the machine), and a finished
// run extended by N steps continues from its checkpoint (step counter, optimizer state, EMA teacher) to the
// same state as one run of the same plan, with a schedule that is continuous at the join.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../graph/tensor.js';
import { Project } from '../project/project.js';
import { readCheckpoint } from './checkpoint.js';
import { TINY_OVERRIDES, trainConfig } from './config.js';
import { checkpointDir, runDir, runPretrain } from './run.js';
import { scheduleAt } from './schedule.js';
import type { StepReport } from './trainer.js';
import { textureProject } from './fixtures/texture-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-run-budget-'));
let project: Project;
const overrides = { ...TINY_OVERRIDES, runtime: { threads: 1 } };

beforeAll(async () => {
  project = await textureProject(dir, join(dir, 'p'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (run: string): StepReport[] =>
  readFileSync(join(runDir(project, run), 'progress.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StepReport);

describe('run length', () => {
  it('a minutes budget ends within 10 % of its budget when steps become 4× slower for a third of it', async () => {
    const budget = 24; // seconds
    let start: number | null = null;
    let prev: number | null = null;
    const intervals: number[] = [];
    let extra = 0;
    const summary = await runPretrain(project, {
      name: 'budget',
      overrides,
      minutes: budget / 60,
      onPhase: (what) => {
        if (what === 'running the first step') start = performance.now();
      },
      // From 25 % to 60 % of the budget every step takes 3 of its own lengths more (measured before the slow
      // phase): the machine busy with other work. The old fixed count, timed on the first steps, overran.
      afterStep: async () => {
        const now = performance.now();
        if (prev !== null && extra === 0) intervals.push(now - prev);
        const f = (now - start!) / 1000 / budget;
        if (f >= 0.25 && f < 0.6) {
          if (extra === 0) extra = 3 * [...intervals.slice(1)].sort((a, b) => a - b)[intervals.length >> 1];
          await sleep(extra);
        }
        prev = performance.now();
      },
    });
    const took = (performance.now() - start!) / 1000;
    expect(summary.status).toBe('done');
    expect(Math.abs(took - budget), `ran ${took.toFixed(1)} s of a ${budget} s budget (${summary.steps} steps)`).toBeLessThanOrEqual(
      0.1 * budget,
    );
    expect(extra).toBeGreaterThan(0);
    expect(summary.stepsFrom.kind === 'minutes' && summary.stepsFrom.replans).toBeGreaterThan(0);
    // The schedule ran to its end: the last step's lr is on the cosine's last tenth, not cut off mid-way.
    const reports = progress('budget');
    const peak = Math.max(...reports.map((r) => r.lr));
    expect(reports[reports.length - 1].lr).toBeLessThan(0.1 * peak);
    expect(reports.map((r) => r.step)).toEqual(reports.map((_, i) => i + 1));
  }, 180_000);

  it('a minutes budget spent before a step was timed stops after the first step and says so, not "NaN s/step"', async () => {
    const lines: string[] = [];
    // 6 ms: spent during the first step, which is a warm-up and not timed, so there is no speed to show.
    const summary = await runPretrain(project, { name: 'spent', overrides, minutes: 0.0001, log: (l) => lines.push(l) });
    expect([summary.status, summary.steps, summary.totalSteps]).toEqual(['done', 1, 1]);
    expect(lines.filter((l) => /NaN/.test(l))).toEqual([]);
    expect(lines).toContain(
      'pretrain: the 0.0001 min budget was spent before a step was timed (the first is a warm-up) → stopping at step 1',
    );
  }, 120_000);

  it('extending a finished run by N steps continues its state and schedule: the same as one run of that plan', async () => {
    const first = await runPretrain(project, { name: 'ext', overrides, steps: 4 });
    expect([first.status, first.steps]).toEqual(['done', 4]);
    const more = await runPretrain(await Project.open(project.dir), { resume: true, name: 'ext', steps: 3 }); // a fresh read: the run is listed on disk
    expect(more).toMatchObject({ status: 'done', steps: 7, totalSteps: 7, startedFrom: 4 });
    const rec = (await Project.open(project.dir)).runs().find((r) => (r as { name: string }).name === 'ext') as {
      status: string;
      step: number;
      totalSteps: number;
    };
    expect(rec).toMatchObject({ status: 'done', step: 7, totalSteps: 7 });
    // The same plan in one go: 7 steps whose schedule is extended at step 4.
    await runPretrain(project, {
      name: 'straight',
      overrides: { ...overrides, replans: [{ step: 4, from: 4, to: 7, kind: 'extend' }] },
      steps: 7,
    });

    const a = await readCheckpoint(checkpointDir(runDir(project, 'ext')));
    const b = await readCheckpoint(checkpointDir(runDir(project, 'straight')));
    expect(a.step).toBe(7);
    expect(a.config.replans).toEqual([{ step: 4, from: 4, to: 7, kind: 'extend' }]);
    const same = (x: Map<string, HostTensor>, y: Map<string, HostTensor>, what: string): void => {
      expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
      for (const [n, t] of x) {
        const u = y.get(n)!;
        const d = Array.from(t.data as ArrayLike<number | bigint>, (v, i) =>
          Math.abs(Number(v) - Number((u.data as ArrayLike<number | bigint>)[i])),
        );
        expect(Math.max(0, ...d), `${what} ${n}`).toBeLessThanOrEqual(1e-6);
      }
    };
    same(a.teacher, b.teacher, 'EMA teacher');
    same(a.student, b.student, 'student');
    same(a.optimizer, b.optimizer, 'optimizer'); // includes optim/step: the AdamW step counter went on from 4
    expect(Number((a.optimizer.get('optim/step')!.data as ArrayLike<number>)[0])).toBe(7);

    // The schedule at the join: step 5 starts where the finished 4-step plan stood (its final values), and
    // no value jumps (a ramp to the re-planned cosine, no second warm-up).
    const reports = progress('ext');
    expect(reports.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const end = scheduleAt(trainConfig('quick', { ...overrides, steps: 4 }), 4);
    expect(reports[4].lr).toBeCloseTo(end.lr, 12);
    expect(reports[4].momentum).toBeCloseTo(end.momentum, 6);
    const straight = progress('straight');
    for (const k of ['lr', 'wd', 'momentum', 'teacherTemp'] as const) expect(reports.map((r) => r[k])).toEqual(straight.map((r) => r[k]));
    expect(reports[6].losses.total).toBeCloseTo(straight[6].losses.total, 5);
  }, 180_000);
});

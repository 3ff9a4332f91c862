// `dinoscope distil` through the built CLI on a real project (generated texture PNGs): bad input exits 2 with
// one line; a teacher pretrained here (the --tiny model, its run's heads) distilled into two narrower
// students in one run, killed with SIGKILL after a checkpoint, resumes from that checkpoint's step and
// finishes; each student's EMA is a project model, and the estimate comes first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../project/project.js';
import { textureProject } from '../../train/fixtures/texture-project.js';
import { killAfterCheckpoint } from '../fixtures/kill-after-checkpoint.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-distil-'));
const proj = join(dir, 'p');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Students narrower than the --tiny teacher (dim 32, depth 1).
const OVER = JSON.stringify({
  batchSize: 2,
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { hidden: 32, bottleneck: 16 },
  model: { vit: { dim: 16, depth: 1, heads: 2 } },
});

beforeAll(async () => {
  await textureProject(dir, proj);
  const t = cli(['pretrain', '--project', proj, '--tiny', '--threads', '1', '--steps', '4', '--run', 'teach']);
  expect(t.status, t.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope distil', () => {
  it('exits 2 with one line on bad input', () => {
    const cases: [string[], RegExp][] = [
      [['--project', proj, '--student', 'tiny'], /needs --teacher MODEL/],
      [['--project', proj, '--teacher', 'teach'], /needs --student SIZE/],
      [['--project', proj, '--teacher', 'teach', '--student', 'huge'], /unknown size "huge"/],
      [['--project', proj, '--teacher', 'teach', '--student', 'tiny,tiny'], /each size once/],
      [['--project', proj, '--teacher', 'nosuch', '--student', 'tiny'], /--teacher nosuch: no such file, folder or model id/],
      [['--project', proj, '--teacher', 'teach', '--student', 'tiny'], /not smaller than the teacher/],
      [
        [
          '--project',
          proj,
          '--teacher',
          'teach',
          '--student',
          'tiny',
          '--overrides',
          '{"model":{"vit":{"patchSize":16,"dim":16,"depth":1,"heads":2}}}',
        ],
        /patch size 16 differs from the teacher's 8/,
      ],
      [['--project', proj, '--resume', '--teacher', 'teach'], /apply when a run starts/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(['distil', '--threads', '1', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  }, 120_000);

  it('two students: killed with SIGKILL after a checkpoint, resumed from it, finished; each is a project model', async () => {
    const total = 30;
    const args = ['distil', '--project', proj, '--teacher', 'teach', '--student', 'tiny,small', '--threads', '1', '--steps', String(total)];
    const { killedAt, stderr: err } = await killAfterCheckpoint([
      ...args,
      '--checkpoint-minutes',
      '0.0001',
      '--run',
      'd1',
      '--overrides',
      OVER,
    ]);
    expect(killedAt).toBeLessThan(total);
    // The estimate and the teacher come first; the teacher brings its run's heads.
    const lines = err.split('\n');
    expect(lines.findIndex((l) => l.startsWith('distil: memory: this needs'))).toBeLessThan(lines.findIndex((l) => /^step 1\//.test(l)));
    expect(err).toMatch(/distil: work: [\d.]+ GFLOP a step: the teacher forward [\d.]+ \(once, shared\), tiny [\d.]+, small [\d.]+/);
    expect(err).toMatch(/teacher: .* with the DINO and iBOT heads it was trained with/);
    // The time it will take, from the first step timed after the warm-up (step 2 of 30).
    expect(err).toMatch(
      /distil: time: about \S+ for the remaining 28 steps \([\d.]+ s a step on this computer, timed after the warm-up step\)/,
    );
    const ck = join(proj, 'runs/d1/checkpoints/latest');
    const rec = JSON.parse(readFileSync(join(ck, 'distill.json'), 'utf8')) as { step: number; students: string[] };
    expect(rec.students).toEqual(['tiny', 'small']);
    expect(rec.step).toBeGreaterThanOrEqual(3);

    const r = cli(['distil', '--project', proj, '--resume', 'd1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming run d1 from its checkpoint at step ${rec.step}/${total}`);
    expect(Number(/step (\d+)\/\d+ {2}loss/.exec(r.stderr)?.[1])).toBe(rec.step + 1);
    const summary = JSON.parse(r.stdout) as {
      status: string;
      steps: number;
      startedFrom: number;
      students: string[];
      models: Record<string, string>;
    };
    expect(summary).toMatchObject({ status: 'done', steps: total, startedFrom: rec.step, students: ['tiny', 'small'] });
    expect(summary.models).toEqual({ tiny: 'd1-tiny', small: 'd1-small' });
    for (const id of ['d1-tiny', 'd1-small'])
      expect(JSON.parse(readFileSync(join(proj, 'models', id, 'dinoscope.json'), 'utf8'))).toMatchObject({ source: `run:${id}@${total}` });
    const steps = readFileSync(join(proj, 'runs/d1/progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; students: { name: string }[] });
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(steps[0].students.map((s) => s.name)).toEqual(['tiny', 'small']);
    expect(existsSync(join(proj, 'runs/d1/train-config.json'))).toBe(true);
    const runs = (await Project.open(proj)).runs() as { name: string; status: string; distil?: unknown }[];
    expect(runs.find((x) => x.name === 'd1')).toMatchObject({ status: 'done', distil: { teacher: 'teach', students: ['tiny', 'small'] } });
  }, 180_000);

  it('a finished run is extended by M minutes: the step count continues, the schedules re-planned, both students updated', () => {
    const total = 30; // where the run above finished
    const r = cli(['distil', '--project', proj, '--resume', 'd1', '--minutes', '0.1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`resuming run d1 from its checkpoint at step ${total}/${total}, extended by 0.1 min \\(about \\d+ steps\\)`),
    );
    const s = JSON.parse(r.stdout) as {
      status: string;
      steps: number;
      startedFrom: number;
      stepsFrom: { kind: string; seconds: number };
      models: Record<string, string>;
    };
    expect(s).toMatchObject({ status: 'done', startedFrom: total, stepsFrom: { kind: 'minutes' } });
    expect(s.steps).toBeGreaterThan(total);
    expect(Math.abs(s.stepsFrom.seconds - 6)).toBeLessThanOrEqual(0.9); // 0.1 min from its first step on
    const progress = readFileSync(join(proj, 'runs/d1/progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(progress).toEqual(Array.from({ length: s.steps }, (_, i) => i + 1)); // one line per step, the counter continued
    const config = JSON.parse(readFileSync(join(proj, 'runs/d1/checkpoints/latest/students/tiny/train-config.json'), 'utf8')) as {
      steps: number;
      replans: { step: number; from: number; kind: string }[];
    };
    expect(config.steps).toBe(s.steps);
    expect(config.replans[0]).toMatchObject({ step: total, from: total, kind: 'extend' }); // then the budget's re-timings
    expect(s.models).toEqual({ tiny: 'd1-tiny', small: 'd1-small' });
    for (const id of ['d1-tiny', 'd1-small'])
      expect(JSON.parse(readFileSync(join(proj, 'models', id, 'dinoscope.json'), 'utf8'))).toMatchObject({
        source: `run:${id}@${s.steps}`,
      });
  }, 120_000);
});

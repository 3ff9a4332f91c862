// `dinoscope pretrain --resume NAME --steps N | --minutes M` through the built CLI on a real project (one
// generated PNG, the --tiny model): bad budgets exit 2 with one plain line; a finished run is extended by
// N steps and then by M minutes, continuing its step count, with the re-plans kept in its checkpoint's config.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textureProject } from '../../train/fixtures/texture-project.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-pretrain-extend-'));
const proj = join(dir, 'p');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'pretrain', '--project', proj, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await textureProject(dir, proj);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope pretrain: budgets and extending a run', () => {
  it('exits 2 with one plain line on a bad budget', () => {
    const cases: [string[], RegExp][] = [
      [['--tiny', '--minutes', '0'], /--minutes must be a positive number, got "0"/],
      [['--tiny', '--minutes', 'ten'], /--minutes must be a positive number, got "ten"/],
      [['--tiny', '--minutes', '20000'], /--minutes: must be more than 0 and at most 10080 \(a week\), got 20000/],
      [['--tiny', '--steps', '2.5'], /--steps must be a positive integer, got "2.5"/],
      [['--tiny', '--steps', '99999999'], /--steps: must be a whole number from 1 to 10000000/],
      [['--resume', 'nosuch', '--steps', '3'], /no run named "nosuch"/],
      [['--resume', 'a', '--run', 'b', '--steps', '3'], /--resume a and --run b name different runs/],
      [['--resume', '--steps', '3', '--minutes', '1'], /either --steps or --minutes/],
      [
        ['--resume', '--preset', 'quick', '--steps', '3'],
        /--resume: continues a run with its saved config: drop --preset, --from and --overrides \(--steps or --minutes extend it\)/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('extends a finished run by N steps, then by M minutes, from its checkpoint', () => {
    const a = cli(['--tiny', '--threads', '1', '--steps', '3', '--run', 'e']);
    expect(a.status, a.stderr).toBe(0);
    const b = cli(['--resume', 'e', '--steps', '2']);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/resuming run e from its checkpoint at step 3\/3, extended by 2 steps to 5/);
    expect(JSON.parse(b.stdout)).toMatchObject({
      run: 'e',
      status: 'done',
      steps: 5,
      totalSteps: 5,
      startedFrom: 3,
      stepsFrom: { kind: 'steps' },
    });
    const c = cli(['--resume', 'e', '--minutes', '0.15']);
    expect(c.status, c.stderr).toBe(0);
    const s = JSON.parse(c.stdout) as { status: string; steps: number; startedFrom: number; stepsFrom: { kind: string; seconds: number } };
    expect(s).toMatchObject({ status: 'done', startedFrom: 5, stepsFrom: { kind: 'minutes' } });
    expect(s.steps).toBeGreaterThan(5);
    expect(Math.abs(s.stepsFrom.seconds - 9)).toBeLessThanOrEqual(0.9); // 0.15 min from its first step on
    const progress = readFileSync(join(proj, 'runs', 'e', 'progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(progress).toEqual(progress.map((_, i) => i + 1)); // one line per step, the counter continued
    const config = JSON.parse(readFileSync(join(proj, 'runs', 'e', 'checkpoints', 'latest', 'train-config.json'), 'utf8')) as {
      steps: number;
      replans: { step: number; from: number; to: number; kind: string }[];
    };
    expect(config.steps).toBe(s.steps);
    expect(config.replans[0]).toEqual({ step: 3, from: 3, to: 5, kind: 'extend' });
    expect(config.replans[1]).toMatchObject({ step: 5, from: 5, kind: 'extend' });
  }, 300_000);
});

// `dinoscope pretrain --preset capi` through the built CLI on a real project (a generated texture PNG): the
// step's memory and work estimate comes first; a run killed with SIGKILL after a checkpoint resumes from that
// checkpoint's step and finishes with CAPI's loss terms in every progress line and progress.jsonl step; the
// run's EMA encoder is the project model, and extraction runs on it; `--resume NAME --steps N` extends the
// finished run from its step with the same step counter.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../project/project.js';
import { textureProject } from '../../train/fixtures/texture-project.js';
import { killAfterCheckpoint } from '../fixtures/kill-after-checkpoint.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-pretrain-capi-'));
const proj = join(dir, 'p');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface ProgressLine {
  step: number;
  losses: Record<string, number>;
}
const progress = (): ProgressLine[] =>
  readFileSync(join(proj, 'runs/c1/progress.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ProgressLine);

beforeAll(async () => {
  await textureProject(dir, proj);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope pretrain --preset capi', () => {
  it('killed with SIGKILL after a checkpoint, resumes from it and finishes; its encoder is a project model that extracts; extends', async () => {
    const total = 24;
    const args = ['pretrain', '--project', proj, '--preset', 'capi', '--tiny', '--threads', '1', '--steps', String(total)];
    const { killedAt, stderr: err } = await killAfterCheckpoint([...args, '--checkpoint-minutes', '0.0001', '--run', 'c1']);
    expect(killedAt).toBeLessThan(total);
    // The estimate comes before the first step; the progress lines carry CAPI's loss terms, not DINO's.
    const lines = err.split('\n');
    const first = lines.findIndex((l) => /^step 1\//.test(l));
    expect(lines.findIndex((l) => /^capi: memory: this needs ~\d+ MB \(encoder/.test(l))).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((l) => l.startsWith('capi: memory:'))).toBeLessThan(first);
    expect(err).toMatch(/capi: work: [\d.]+ GFLOP a step \(teacher and clustering head [\d.]+, student [\d.]+\)/);
    expect(err).toMatch(/capi: run c1 \(capi\), 24 steps/);
    expect(lines[first]).toMatch(/loss [\d.]+ \(capi [\d.]+ clustering [\d.]+\)/);
    expect(lines[first]).not.toMatch(/dino|ibot|koleo/);
    const state = JSON.parse(readFileSync(join(proj, 'runs/c1/checkpoints/latest/state.json'), 'utf8')) as { step: number };
    expect(state.step).toBeGreaterThanOrEqual(3);

    const r = cli(['pretrain', '--project', proj, '--resume', 'c1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`capi: resuming run c1 from its checkpoint at step ${state.step}/${total}`);
    expect(Number(/step (\d+)\/\d+ {2}loss/.exec(r.stderr)?.[1])).toBe(state.step + 1);
    const summary = JSON.parse(r.stdout) as {
      status: string;
      steps: number;
      startedFrom: number;
      finalLosses: Record<string, number>;
      model: string;
    };
    expect(summary).toMatchObject({ status: 'done', steps: total, startedFrom: state.step, model: 'c1' });
    expect(Object.keys(summary.finalLosses).sort()).toEqual(['capi', 'clustering', 'total']);
    expect(Object.values(summary.finalLosses).every(Number.isFinite)).toBe(true);
    // progress.jsonl: steps 1..total exactly once, each with the CAPI loss.
    const steps = progress();
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const s of steps) expect(s.losses.capi).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(proj, 'models/c1/dinoscope.json'), 'utf8'))).toMatchObject({ source: `run:c1@${total}` });
    const runs = (await Project.open(proj)).runs() as { name: string; status: string; preset: string; step: number }[];
    expect(runs.find((x) => x.name === 'c1')).toMatchObject({ status: 'done', preset: 'capi', step: total });

    // Extraction runs on the run's model (the EMA encoder), on the image imported for real (metadata, pyramid).
    const imp = cli(['import', proj, join(dir, 'texture.png')]);
    expect(imp.status, imp.stderr).toBe(0);
    const x = cli(['extract', '--project', proj, '--model', 'c1', '--level', '0', '--device', 'cpu', '--threads', '1']);
    expect(x.status, x.stderr).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ modelId: 'c1', patches: 1024 });

    // Extended by 3 steps: the same step counter, from the finished run's step.
    const e = cli(['pretrain', '--project', proj, '--resume', 'c1', '--steps', '3']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stderr).toContain(`capi: resuming run c1 from its checkpoint at step ${total}/${total}, extended by 3 steps to ${total + 3}`);
    expect(JSON.parse(e.stdout)).toMatchObject({ status: 'done', steps: total + 3, startedFrom: total });
    expect(progress().map((s) => s.step)).toEqual(Array.from({ length: total + 3 }, (_, i) => i + 1));
  }, 240_000);

  it('refuses an unknown preset with one line naming capi among the presets', () => {
    const r = cli(['pretrain', '--project', proj, '--preset', 'mae', '--tiny']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown preset "mae" \(quick, standard, capi\)/);
  });
});

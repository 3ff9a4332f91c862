// `dinoscope pretrain` through the built CLI on a real project (one generated PNG, the --tiny model):
// bad input exits 2 with one line; a run killed with SIGKILL after its first checkpoint resumes from that
// checkpoint's step (not 0) and finishes; progress.jsonl, the checkpoint and project.json record the run,
// and its teacher is the project model named after the run.
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
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-pretrain-'));
const proj = join(dir, 'p');
const empty = join(dir, 'empty');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await textureProject(dir, proj);
  await Project.create(empty);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope pretrain', () => {
  it('exits 2 with one line on bad input', () => {
    const cases: [string[], RegExp][] = [
      [['--project', join(dir, 'nope')], /is not a Dinoscope project/],
      [['--project', empty, '--tiny'], /no readable \(ok\) images/],
      [['--project', proj, '--preset', 'huge'], /unknown preset "huge"/],
      [['--project', proj, '--steps', '5', '--minutes', '1'], /either --steps or --minutes/],
      [['--project', proj, '--overrides', '{"nosuch":1}'], /unknown key nosuch/],
      [['--project', proj, '--device', 'tpu'], /--device must be auto, cpu, webgpu, cuda, got "tpu"/],
      [['--project', proj, '--resume', '--device', 'cpu'], /--device applies when a run starts/],
      [['--project', proj, '--precision', 'bf16'], /--precision must be auto, fp32, mixed, got "bf16"/],
      [['--project', proj, '--resume', '--precision', 'fp32'], /--precision applies when a run starts/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(['pretrain', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('resumes a run killed with SIGKILL from its last checkpoint and finishes it', async () => {
    const total = 40;
    const runFolder = join(proj, 'runs', 'r1');
    const args = [
      'pretrain',
      '--project',
      proj,
      '--tiny',
      '--threads',
      '1',
      '--steps',
      String(total),
      '--checkpoint-minutes',
      '0.0001',
      '--run',
      'r1',
    ];
    // Kill once a checkpoint past step 2 is on disk and a few more steps have run after it.
    const { killedAt } = await killAfterCheckpoint(args);
    expect(killedAt).toBeLessThan(total);
    const state = JSON.parse(readFileSync(join(runFolder, 'checkpoints/latest/state.json'), 'utf8')) as { step: number };
    expect(state.step).toBeGreaterThanOrEqual(3);
    expect(state.step).toBeLessThan(total);

    const r = cli(['pretrain', '--project', proj, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming run r1 from its checkpoint at step ${state.step}/${total}`);
    // The first step after the resume is the checkpoint's step + 1, not 1.
    const first = /step (\d+)\/(\d+) {2}loss/.exec(r.stderr);
    expect(Number(first?.[1])).toBe(state.step + 1);
    expect(r.stderr).toMatch(/dino [\d.e+-]+ ibot [\d.e+-]+ koleo [\d.e+-]+\) {2}lr [\d.e+-]+ {2}τt 0\.\d+ {2}[\d.]+ img\/s {2}ETA/);
    const summary = JSON.parse(r.stdout) as {
      run: string;
      status: string;
      steps: number;
      startedFrom: number;
      lastCheckpoint: { step: number };
      finalLosses: { total: number };
    };
    expect(summary).toMatchObject({ run: 'r1', status: 'done', steps: total, startedFrom: state.step, lastCheckpoint: { step: total } });
    expect(Number.isFinite(summary.finalLosses.total)).toBe(true);
    // The run's teacher is the project model r1 at its final step, usable by extract without an import.
    expect((JSON.parse(r.stdout) as { model: string }).model).toBe('r1');
    expect(JSON.parse(readFileSync(join(proj, 'models/r1/dinoscope.json'), 'utf8'))).toMatchObject({ source: `run:r1@${total}` });
    const models = cli(['models', 'list', '--project', proj]);
    expect(models.status, models.stderr).toBe(0);
    expect(JSON.parse(models.stdout)).toContainEqual(expect.objectContaining({ id: 'r1', location: 'project' }));
    // progress.jsonl: steps 1..total exactly once (lines past the checkpoint from the killed run dropped).
    const steps = readFileSync(join(runFolder, 'progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(existsSync(join(runFolder, 'train-config.json'))).toBe(true);
    const runs = (await Project.open(proj)).runs() as { name: string; status: string; step: number; checkpointStep: number }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'r1', status: 'done', step: total, checkpointStep: total });
  }, 80_000);
  it('stops on a NaN loss with an error naming the step and keeps the last good checkpoint', async () => {
    const over = JSON.stringify({ optim: { baseLr: 1e12, clipGrad: 1e30, warmupFraction: 0 } });
    const r = cli([
      'pretrain',
      '--project',
      proj,
      '--tiny',
      '--threads',
      '1',
      '--steps',
      '50',
      '--run',
      'nan',
      '--checkpoint-minutes',
      '0.0001',
      '--overrides',
      over,
    ]);
    expect(r.status, r.stderr).toBe(1);
    const m = /loss became NaN\/infinite at step (\d+) .*the last checkpoint \(step (\d+)\) was kept/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const state = JSON.parse(readFileSync(join(proj, 'runs/nan/checkpoints/latest/state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(Number(m?.[2]));
    expect(state.step).toBe(Number(m?.[1]) - 1);
    const runs = (await Project.open(proj)).runs() as { name: string; status: string }[];
    expect(runs.find((x) => x.name === 'nan')?.status).toBe('failed');
  }, 30_000);
});

describe('dinoscope pretrain --from', () => {
  it('starts from a model folder (a run checkpoint), as its help says, and names a folder without weights', () => {
    const base = cli(['pretrain', '--project', proj, '--tiny', '--threads', '1', '--steps', '1', '--run', 'from-base']);
    expect(base.status, base.stderr).toBe(0);
    const folder = join(proj, 'runs', 'from-base', 'checkpoints', 'latest');
    const r = cli(['pretrain', '--project', proj, '--tiny', '--threads', '1', '--steps', '1', '--run', 'from-folder', '--from', folder]);
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(proj, 'runs', 'from-folder', 'train-config.json'), 'utf8')) as { model: { from: string } };
    expect(config.model.from).toBe(join(folder, 'model.safetensors'));
    const none = cli(['pretrain', '--project', proj, '--tiny', '--steps', '1', '--run', 'from-none', '--from', dir]);
    expect(none.status, none.stderr).toBe(2);
    expect(none.stderr).toBe(`dinoscope pretrain: --from ${dir}: no model.safetensors in this folder.\n`);
  }, 60_000);
});

describe('dinoscope pretrain --device', () => {
  it("records the device asked for in the run's config (the quick preset's own is cpu)", () => {
    const r = cli(['pretrain', '--project', proj, '--tiny', '--threads', '1', '--steps', '1', '--run', 'device-auto', '--device', 'auto']);
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(proj, 'runs', 'device-auto', 'train-config.json'), 'utf8')) as {
      runtime: { device: string };
    };
    expect(config.runtime.device).toBe('auto');
  }, 60_000);

  it('--precision mixed on the CPU is recorded as asked, warns in plain words and trains in fp32 (the run record and summary say so)', () => {
    const r = cli([
      'pretrain',
      '--project',
      proj,
      '--tiny',
      '--threads',
      '1',
      '--steps',
      '1',
      '--run',
      'mixed-cpu',
      '--precision',
      'mixed',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: mixed precision needs a GPU that runs float16, and this run trains on the CPU. Training runs in fp32 instead. Choose precision auto or fp32 to silence this.\n',
    );
    const config = JSON.parse(readFileSync(join(proj, 'runs', 'mixed-cpu', 'train-config.json'), 'utf8')) as {
      runtime: { precision: string };
    };
    expect(config.runtime.precision).toBe('mixed');
    expect((JSON.parse(r.stdout) as { precision: string }).precision).toBe('fp32');
    const runs = (JSON.parse(readFileSync(join(proj, 'project.json'), 'utf8')) as { runs: { name: string; precision?: string }[] }).runs;
    expect(runs.find((x) => x.name === 'mixed-cpu')?.precision).toBe('fp32');
  }, 60_000);
});

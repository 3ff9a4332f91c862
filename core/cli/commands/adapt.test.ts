// `dinoscope adapt` through the built CLI on a real project (one generated PNG): bad input exits 2 with one
// line; a tiny model pretrained by `dinoscope pretrain --tiny` is adapted for 3 steps with a two-triple size table —
// the memory estimate is printed first, every progress line has the Gram loss, health is measured at steps
// 1, 2 and 3, the checkpoint carries the Gram teacher and the run is recorded with stage 'adapt'.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../project/project.js';
import { readSafetensors } from '../../model/weights/safetensors.js';
import { textureProject } from '../../train/fixtures/texture-project.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-adapt-'));
const proj = join(dir, 'p');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let model = '';
beforeAll(async () => {
  await textureProject(dir, proj);
  const r = cli(['pretrain', '--project', proj, '--tiny', '--steps', '2', '--run', 'base', '--threads', '1']);
  expect(r.status, r.stderr).toBe(0);
  model = join(proj, 'runs', 'base', 'checkpoints', 'latest', 'model.safetensors');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = JSON.stringify({
  batchSize: 2,
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { prototypes: 32, hidden: 32, bottleneck: 16 },
  gram: {
    sizeTable: [
      { global: 32, local: 16, gram: 48, p: 0.5 },
      { global: 40, local: 16, gram: 64, p: 0.5 },
    ],
  },
  health: { every: 2, tiles: 2, perImage: 4, radius: 1 },
});

describe('dinoscope adapt', () => {
  it('exits 2 with one line on bad input', () => {
    const cases: [string[], RegExp][] = [
      [['--project', proj], /needs --model/],
      [['--project', proj, '--model', join(dir, 'nope.safetensors')], /no such file, folder or model id/],
      [['--project', proj, '--model', model, '--preset', 'quick'], /unknown adapt preset "quick"/],
      [['--project', proj, '--model', model, '--overrides', '{"gram":{"teacher":"nobody"}}'], /gram.teacher must be start or ema/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['adapt', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  }, 60_000);

  it('adapts a pretrained model with a two-triple size table, the Gram loss and health in every run record', async () => {
    const r = cli(['adapt', '--project', proj, '--model', model, '--steps', '3', '--run', 'hi', '--threads', '1', '--overrides', small]);
    expect(r.status, r.stderr).toBe(0);
    const mem = r.stderr.split('\n').filter((l) => /this needs ~\d/.test(l));
    expect(mem.length).toBe(3); // two triples and the largest
    expect(r.stderr.indexOf('this needs')).toBeLessThan(r.stderr.indexOf('step 1/3'));
    const summary = JSON.parse(r.stdout) as { status: string; steps: number };
    expect(summary).toMatchObject({ status: 'done', steps: 3 });
    const lines = readFileSync(join(proj, 'runs', 'hi', 'progress.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            step: number;
            losses: { gram?: number };
            sizes: { global: number };
            health?: { locality: number; clsPatchCosine: number };
          },
      );
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of lines) expect(Number.isFinite(l.losses.gram)).toBe(true);
    for (const l of lines) expect(Number.isFinite(l.health?.locality) && Number.isFinite(l.health?.clsPatchCosine)).toBe(true);
    const ck = join(proj, 'runs', 'hi', 'checkpoints', 'latest');
    const state = JSON.parse(readFileSync(join(ck, 'state.json'), 'utf8')) as {
      gram: { source: string };
      sizes: number[];
      health: { step: number }[];
    };
    expect(state.gram.source).toBe('start');
    expect(state.sizes).toHaveLength(4);
    expect(state.health.map((h) => h.step)).toEqual([1, 2, 3]);
    const keys = [...(await readSafetensors(join(ck, 'model.safetensors'))).tensors.keys()];
    expect(keys.some((k) => k.startsWith('gram.backbone.'))).toBe(true);
    const run = (await Project.open(proj)).runs().find((x) => (x as { name: string }).name === 'hi');
    expect(run).toMatchObject({ stage: 'adapt', preset: 'adapt-cpu', status: 'done' });
    console.log(`adapt CLI: sizes ${lines.map((l) => l.sizes.global).join(',')}; ${mem.join(' | ')}`);
  }, 180_000);
});

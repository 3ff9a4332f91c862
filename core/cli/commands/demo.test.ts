// `dinoscope demo` through the built CLI with the smoke-test slides and model (--tiny --steps 3): the
// folder becomes a project with four slides, a finished run, its teacher as a project model and an
// indexed feature set, and `dinoscope search` on it answers with matches; a non-empty folder that is
// not a demo is refused with exit 2. (Cancel and resume: core/demo/pipeline.test.ts.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../demo/pipeline.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-cli-'));
const demo = join(dir, 'demo');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope demo', () => {
  it('refuses bad input with exit 2 and one line', () => {
    const taken = join(dir, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'mine.txt'), 'x');
    const cases: [string[], RegExp][] = [
      [['--dir', taken, '--tiny'], /taken is not empty and is not a previous Dinoscope demo/],
      [['--minutes', '1', '--steps', '2'], /either --minutes or --steps/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(['demo', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(readFileSync(join(taken, 'mine.txt'), 'utf8')).toBe('x');
  });

  it('makes a searchable project: slides, run, model, features', () => {
    const r = cli(['demo', '--tiny', '--steps', '3', '--dir', demo]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as DemoSummary;
    expect(s.project).toBe(demo);
    expect(s.started).toBe('new');
    expect(s.images.map((i) => i.name)).toEqual(['demo-slide-1.tif', 'demo-slide-2.tif', 'demo-slide-3.tif', 'demo-slide-4.tif']);
    expect([s.run, s.steps, s.model]).toEqual(['demo', 3, 'demo']);
    expect(s.patches).toBeGreaterThan(1000);
    // Progress named each phase on stderr.
    for (const phase of ['demo: 0% generating', 'importing', '% training', 'extracting', 'ready']) expect(r.stderr).toContain(phase);

    const project = JSON.parse(readFileSync(join(demo, 'project.json'), 'utf8')) as {
      images: unknown[];
      runs: { name: string; status: string }[];
      features: { id: string; images: { complete: boolean; indexedRows: number }[] }[];
    };
    expect(project.images).toHaveLength(4);
    expect(project.runs.find((x) => x.name === 'demo')?.status).toBe('done');
    expect(existsSync(join(demo, 'runs/demo/checkpoints/latest/state.json'))).toBe(true);
    expect(existsSync(join(demo, 'models/demo/model.safetensors'))).toBe(true);
    const set = project.features.find((f) => f.id === s.featureSet)!;
    expect(set.images).toHaveLength(4);
    expect(set.images.every((e) => e.complete && e.indexedRows > 0)).toBe(true);

    const q = cli(['search', '--project', demo, '--image', 'demo-slide-1.tif', '--x', '256', '--y', '256', '--k', '5']);
    expect(q.status, q.stderr).toBe(0);
    const found = JSON.parse(q.stdout) as { matches: { name: string; score: number }[] };
    expect(found.matches.length).toBeGreaterThan(0);
    expect(found.matches.every((m) => /^demo-slide-\d\.tif$/.test(m.name) && m.score > 0)).toBe(true);
  });
});

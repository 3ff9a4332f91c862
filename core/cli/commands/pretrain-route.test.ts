// `dinoscope pretrain`'s default route through the built CLI on a real project: from scratch while no
// foundation model is there (a run's own model does not count), continued pretraining from a model imported
// into the project once there is one (the recipe's continued-pretraining settings in the run's config, the
// log and the summary saying which route and why), and --from-scratch to opt out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_OVERRIDES } from '../../train/config.js';
import { textureProject } from '../../train/fixtures/texture-project.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-route-'));
const proj = join(dir, 'p');
// The user's models folder is $DINOSCOPE_HOME/models: an empty one here, whatever this machine holds.
const env = { ...process.env, DINOSCOPE_HOME: join(dir, 'home') };

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One step of the --tiny model's sizes, given as --overrides so that the route is the default one. */
function pretrain(run: string, ...more: string[]): ReturnType<typeof cli> {
  const tiny = JSON.stringify(TINY_OVERRIDES);
  return cli(['pretrain', '--project', proj, '--threads', '1', '--steps', '1', '--run', run, '--overrides', tiny, ...more]);
}

interface Config {
  model: { from: string | null };
  optim: { baseLr: number; warmupFraction: number };
  teacher: { tempStart: number; temp: number; momentumHorizon: number };
}
const config = (run: string): Config => JSON.parse(readFileSync(join(proj, 'runs', run, 'train-config.json'), 'utf8')) as Config;
const route = (stdout: string): { kind: string; model: string | null; why: string } =>
  (JSON.parse(stdout) as { route: { kind: string; model: string | null; why: string } }).route;

beforeAll(async () => {
  await textureProject(dir, proj);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope pretrain: continued pretraining first', () => {
  it('starts from scratch without a foundation model, from an imported one by default, and from scratch when asked', () => {
    const first = pretrain('first');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^pretrain: pretraining from scratch: no foundation model in the project or in your models folder/m);
    expect(route(first.stdout)).toMatchObject({ kind: 'scratch', model: null });
    expect(config('first').model.from).toBeNull();
    expect(config('first').optim.baseLr).toBe(0.004);

    // The first run's teacher is now the project model "first": a run's own model is not a foundation model.
    const second = pretrain('second');
    expect(second.status, second.stderr).toBe(0);
    expect(route(second.stdout).kind).toBe('scratch');

    // A model imported into the project (here the first run's checkpoint, imported as a file) is one.
    const imported = cli([
      'models',
      'import',
      join(proj, 'runs/first/checkpoints/latest'),
      '--project',
      proj,
      '--location',
      'project',
      '--name',
      'found',
    ]);
    expect(imported.status, imported.stderr).toBe(0);
    const cont = pretrain('cont');
    expect(cont.status, cont.stderr).toBe(0);
    expect(cont.stderr).toMatch(/^pretrain: continued pretraining from found: found is a foundation model in the project's models folder/m);
    expect(cont.stderr).toContain('--from-scratch');
    expect(route(cont.stdout)).toMatchObject({ kind: 'continued', model: 'found' });
    const c = config('cont');
    expect(c.model.from).toBe(join(proj, 'models', 'found', 'model.safetensors'));
    // The continued-pretraining settings (config.ts CONTINUED_OVERRIDES) over the Quick preset's.
    expect(c.optim).toMatchObject({ baseLr: 0.001, warmupFraction: 0.05 });
    expect(c.teacher).toMatchObject({ tempStart: 0.07, temp: 0.07, momentumHorizon: 0 });

    const scratch = pretrain('scratch', '--from-scratch');
    expect(scratch.status, scratch.stderr).toBe(0);
    expect(scratch.stderr).toMatch(/^pretrain: pretraining from scratch: from random weights as asked \(--from-scratch\)/m);
    expect(config('scratch').model.from).toBeNull();
    expect(config('scratch').optim.baseLr).toBe(0.004);

    const both = pretrain('both', '--from-scratch', '--from', 'found');
    expect(both.status, both.stderr).toBe(2);
    expect(both.stderr).toMatch(/either a model to start from \(--from\) or --from-scratch, not both/);
  }, 120_000);
});

// A checked training config is deeply frozen, and a run never changes it: a minutes budget fixes the step
// count into a new config (Trainer.setTotalSteps), which the checkpoint then holds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateReplans } from './schedule-plan.js';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_OVERRIDES, trainConfig, withSteps, type TrainConfig } from './config.js';
import { checkpointDir, runPretrain } from './run.js';
import { textureProject } from './fixtures/texture-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-frozen-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a validated training config', () => {
  it('is frozen all the way down: writing to it throws (ES modules are strict)', () => {
    const c = trainConfig('quick', { steps: 20 });
    expect(() => {
      c.steps = 5;
    }).toThrow(TypeError);
    expect(() => {
      c.crops.globalSize = 64;
    }).toThrow(TypeError);
    expect(() => {
      c.masking.ratio[0] = 0.3;
    }).toThrow(TypeError);
    expect(() => {
      c.runtime.device = 'cuda';
    }).toThrow(TypeError);
    expect(() => {
      (c.model.vit as { depth?: number }).depth = 2;
    }).toThrow(TypeError);
    expect(c.steps).toBe(20);
    expect(c.masking.ratio).toEqual([0.1, 0.5]);
  });

  it('changes its step count only into a new checked config', () => {
    const c = trainConfig('quick', { steps: 20 });
    const longer = withSteps(c, 35);
    expect(longer.steps).toBe(35);
    expect(c.steps).toBe(20);
    expect({ ...longer, steps: 20 }).toEqual(c);
    expect(Object.isFrozen(longer.optim)).toBe(true);
    expect(() => withSteps(c, 0)).toThrow(/steps must be a positive integer/);
  });

  it('a minutes budget fixes the run length without changing the config it validated', async () => {
    const project = await textureProject(dir, join(dir, 'p'), 128);
    const overrides = { ...TINY_OVERRIDES, runtime: { threads: 1 } };
    const started = trainConfig('quick', overrides);

    const summary = await runPretrain(project, { name: 'budget', overrides, minutes: 0.05 });
    // The horizon was fixed from timed steps (at least the timed ones), and the run ran to it.
    expect(summary.stepsFrom.kind).toBe('minutes');
    expect(summary.stepsFrom.kind === 'minutes' && summary.stepsFrom.secondsPerStep > 0).toBe(true);
    expect(summary.status).toBe('done');
    expect(summary.totalSteps).toBeGreaterThanOrEqual(3);
    expect(summary.steps).toBe(summary.totalSteps);
    // The checkpoint holds the config with the fixed step count (a resume continues to the same end) …
    const saved = JSON.parse(readFileSync(join(checkpointDir(summary.dir), 'train-config.json'), 'utf8')) as TrainConfig;
    expect(saved.steps).toBe(summary.totalSteps);
    // … and its re-plans (each re-estimate of the budget re-times the schedules through a new checked config).
    expect(validateReplans(saved.replans, saved.steps)).toBeNull();
    expect({ ...saved, steps: started.steps, replans: started.replans }).toEqual(JSON.parse(JSON.stringify(started)));
    // … and the run folder's config is the one validated at the start, as before.
    const first = JSON.parse(readFileSync(join(summary.dir, 'train-config.json'), 'utf8')) as TrainConfig;
    expect(first).toEqual(JSON.parse(JSON.stringify(started)));
  }, 120_000);
});

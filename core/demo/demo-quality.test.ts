// The demo convinces: after the steps its default budget buys on a quiet 2-core machine, the app's k = 5
// cluster map of the demo slides follows the generator's tissue types (ARI ≥ 0.5 against its own labels) and
// the PCA map is region-coherent (each texture's patches nearest their own texture's map colour). The
// whole demo as `dinoscope demo` runs it: four 4096 px slides, Quick pretraining from scratch for
// DEMO_DEFAULT_STEPS steps (by steps, so the figure does not depend on this machine's load), extraction with
// the automatic tissue mask, the maps with their default smoothing. ~6 CPU-minutes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultFormats } from '../app/formats.js';
import { Project } from '../project/project.js';
import { FULL_SPEC } from './generate.js';
import { demoPlan } from './options.js';
import { runDemo } from './pipeline.js';
import { DEMO_DEFAULT_STEPS, demoQuality } from './quality.js';
import { trainInProcess } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-quality-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo after its default budget', () => {
  it('shows the generated tissue types: cluster map ARI ≥ 0.5, a region-coherent PCA map', async () => {
    const plan = demoPlan({ dir: join(dir, 'demo') }, dir, DEMO_DEFAULT_STEPS);
    expect(plan.spec).toBe(FULL_SPEC);
    const summary = await runDemo(plan, {
      signal: new AbortController().signal,
      progress: () => undefined,
      formats: defaultFormats,
      train: trainInProcess,
      log: () => undefined,
    });
    expect(summary.steps).toBe(DEMO_DEFAULT_STEPS);
    const q = await demoQuality(await Project.open(plan.dir), summary.featureSet, FULL_SPEC);
    process.stdout.write(
      `demo after ${summary.steps} steps: ARI ${q.ari.toFixed(3)} (${q.ariUnsmoothed.toFixed(3)} unsmoothed), PCA colour accuracy ${q.pcaAccuracy.toFixed(3)} (${q.pcaAccuracyUnsmoothed.toFixed(3)}), p@10 ${q.p10.toFixed(3)}, coverage ${q.coverage.toFixed(3)}\n`,
    );
    expect(q.ari).toBeGreaterThanOrEqual(0.5);
    expect(q.pcaAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(q.coverage).toBeGreaterThan(0.95);
  }, 1_200_000);
});

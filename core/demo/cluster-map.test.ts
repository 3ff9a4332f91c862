// What the demo promises a newcomer: after its default budget the cluster map follows the tissue types. The
// demo's own pipeline (runDemo as `dinoscope demo` runs it: the generator's four 4096 px slides, the Quick
// preset from scratch at 2 µm/px, the run's teacher as the model, extraction) for QUIET_STEPS steps — what the
// default 3 minutes buy on a quiet 2-core machine (bench/RESULTS.md) — a step count rather than minutes, so
// the result does not depend on the machine's load. Then the app's k = 5 cluster map against the generator's
// own tissue labels (quality.ts). The goal is an adjusted Rand index ≥ 0.5.
//
// NOT MET YET. Per seed at 65 steps (`DINOSCOPE_DEMO_STEPS=65 DINOSCOPE_DEMO_SEED=s npm run bench --
// demo-quality`, deterministic: a rerun gives the same losses and figures): seed 0 (the preset's, what a user
// gets) ARI 0.411, seed 1 0.522, seed 2 0.495; cross-slide p@10 0.822 / 0.858 / 0.846, mask coverage 0.995
// on each. The 0.541 quoted before came from a minutes run, whose schedule is re-planned after the first
// steps. So the goal is marked as a known failure (it.fails) on the preset's seed rather than shown on the one
// seed that clears it: when the demo reaches it, this test fails and the mark is to be turned into `it`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFormats } from '../app/formats.js';
import { Project } from '../project/project.js';
import { FULL_SPEC } from './generate.js';
import { type DemoSummary, runDemo } from './pipeline.js';
import { type DemoQuality, demoQuality } from './quality.js';
import { trainInProcess } from './train.js';

/** Quick steps the demo's default 3 minutes buy on a quiet 2-core machine (65 measured, bench/RESULTS.md). */
const QUIET_STEPS = 65;
/** The preset's own seed: the demo a user runs. */
const SEED = 0;

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-clusters-'));
let summary: DemoSummary;
let q: DemoQuality;

beforeAll(async () => {
  const demo = join(dir, 'demo');
  summary = await runDemo(
    {
      dir: demo,
      spec: FULL_SPEC,
      steps: QUIET_STEPS,
      overrides: { seed: SEED },
      scratchBecause: 'the test measures the demo trained from scratch, as on a machine without a foundation model',
    },
    {
      signal: new AbortController().signal,
      progress: () => undefined,
      formats: defaultFormats,
      train: trainInProcess,
      log: () => undefined,
    },
  );
  q = await demoQuality(await Project.open(demo), summary.featureSet, FULL_SPEC);
  process.stderr.write(
    `demo after ${QUIET_STEPS} steps (seed ${SEED}): cluster map ARI ${q.ari.toFixed(3)}, cross-slide p@10 ${q.p10.toFixed(3)}, ` +
      `mask coverage ${q.coverage.toFixed(3)} over ${q.patches} labelled patches\n`,
  );
}, 3_600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`the demo after the ${QUIET_STEPS} steps its default budget buys`, () => {
  it('trained from scratch for those steps, and its features cover the labelled tissue', () => {
    expect([summary.steps, summary.route.kind]).toEqual([QUIET_STEPS, 'scratch']);
    expect(q.coverage).toBeGreaterThan(0.9);
  });

  it.fails(`its k = 5 cluster map follows the tissue types: ARI ≥ 0.5 (not met yet: 0.411 on seed ${SEED})`, () => {
    expect(q.ari).toBeGreaterThanOrEqual(0.5);
  });
});

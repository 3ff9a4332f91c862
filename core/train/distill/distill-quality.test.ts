// Does distillation pay on data where quality is measurable? On the pretraining quality fixture (regions that
// differ in structure only; quality-compare.ts says what runs and with which settings): a teacher (width 64,
// 2 blocks) pretrained here from scratch, then a Tiny student (width 32, 1 block) distilled from it for as many
// steps as the same Tiny is pretrained from scratch. Same-region precision@10 of the patch tokens on held-out
// mosaics:
// - the distilled Tiny beats the scratch Tiny by MARGIN and comes within GAP of its teacher;
// - one run with two students (that Tiny and a width-48 one) meets the same bar for both.
// Nothing is cached across runs: the teacher trains in beforeAll. DISTQ_SEED reruns it with another seed; the
// multi-seed spread the margins come from is `npm run bench -- distill-quality` (bench/RESULTS.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../../project/project.js';
import {
  distilledStudents,
  type QualityCompareOptions,
  qualityProject,
  rawPixelPrecision,
  scratchStudent,
  SMALL_STUDENT,
  TINY_STUDENT,
  trainTeacher,
  type TrainedTeacher,
} from './quality-compare.js';

const o: QualityCompareOptions = { seed: Number(process.env.DISTQ_SEED ?? 0), teacherSteps: 200, studentSteps: 200 };
// Seed 0 measured (deterministic: a rerun gives the same figures), with the tissue mask that keeps faint tissue
// (core/data/mask-regions.ts): teacher 0.815, Tiny from scratch 0.530, distilled Tiny 0.628 (+0.098 over scratch,
// 0.187 under the teacher), the width-48 student of the two-student run 0.620 (+0.090). Raw pixels 0.533. Before
// that mask the same seed gave 0.852 / 0.518 / 0.758: the sampled crops changed.
// The bar is NOT robust across seeds (bench distill-quality, same mask; per seed distilled Tiny − scratch Tiny,
// then width-48 student − scratch Tiny): seed 0 +0.098 / +0.090, seed 1 −0.036 / +0.015 (teacher 0.654), seed 2
// +0.071 / +0.038 (teacher 0.584). Neither τ_t 0.02 (seed 0 +0.181, 1 −0.019, 2 −0.020) nor 400 steps for both
// students (seed 1 −0.046, 2 +0.005), nor lr 0.05 or 0.5 on seed 1 (+0.010, −0.102), makes all three pass. The
// patch-similarity term at the teacher's own τ_t 0.02 (loss.patchSim 10; distill/README.md) lifts the Tiny on
// seeds 0 and 1 (+0.148, +0.125) but not seed 2 (−0.013), and drops the width-48 student to 0.525 on seed 0, so
// the test keeps the recipe.
// So this test guards seed 0's behaviour (a regression in the distillation path shows here), not a general
// claim that distillation pays on this fixture.
const MARGIN = 0.05;
const GAP = 0.2;

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-distill-quality-'));
let project: Project;
let teacher: TrainedTeacher;
let scratch: number;
beforeAll(async () => {
  project = await qualityProject(dir);
  teacher = await trainTeacher(project, dir, o);
  scratch = (await scratchStudent(project, o)).precision;
  const raw = rawPixelPrecision();
  process.stderr.write(
    `distillation quality (seed ${o.seed}): precision@10 teacher ${teacher.precision.toFixed(3)} (${o.teacherSteps} steps), ` +
      `Tiny from scratch ${scratch.toFixed(3)} (${o.studentSteps} steps), raw pixels ${raw.toFixed(3)}\n`,
  );
  // The comparison means something only if the teacher has learned what the students are to learn.
  expect(teacher.precision).toBeGreaterThan(raw + MARGIN);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('distillation quality', () => {
  it(`a distilled Tiny beats the same Tiny trained from scratch for the same steps and nears its teacher`, async () => {
    const d = await distilledStudents(project, teacher.weights, [TINY_STUDENT], o);
    process.stderr.write(`distilled Tiny ${d.precision.tiny.toFixed(3)} (${d.seconds.toFixed(0)} s)\n`);
    expect(d.precision.tiny).toBeGreaterThan(scratch + MARGIN);
    expect(d.precision.tiny).toBeGreaterThan(teacher.precision - GAP);
  }, 300_000);

  it('two students in one run both meet that bar', async () => {
    const d = await distilledStudents(project, teacher.weights, [TINY_STUDENT, SMALL_STUDENT], o);
    process.stderr.write(
      `two students in one run: tiny ${d.precision.tiny.toFixed(3)}, small ${d.precision.small.toFixed(3)} (${d.seconds.toFixed(0)} s)\n`,
    );
    for (const name of ['tiny', 'small']) {
      expect(d.precision[name], name).toBeGreaterThan(scratch + MARGIN);
      expect(d.precision[name], name).toBeGreaterThan(teacher.precision - GAP);
    }
  }, 300_000);
});

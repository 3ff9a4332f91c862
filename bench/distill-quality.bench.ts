// `npm run bench -- distill-quality`: does distillation pay, over several seeds? Per seed, on the pretraining
// quality fixture (core/train/quality/textures.ts; core/train/distill/quality-compare.ts says what runs): a
// teacher (width 64, 2 blocks) pretrained from scratch, a Tiny student (width 32, 1 block) distilled from it,
// the same Tiny pretrained from scratch for the same steps, and one run distilling two students (that Tiny and a
// width-48 one) from the same teacher. Each model's patch tokens: same-region precision@10 on held-out mosaics.
// distill-quality.test.ts asserts one seed of this; the table here is the spread its margins were chosen from.
// Environment: DISTQ_SEEDS ("0,1,2"), DISTQ_TEACHER_STEPS (600), DISTQ_STUDENT_STEPS (200), BENCH_THREADS (2),
// DISTQ_TEMP (the distillation targets' τ_t; default the recipe's), DISTQ_LR (the distillation lr; default
// quality-compare.ts's), DISTQ_PATCHSIM (the patch-similarity weight loss.patchSim; default quality-compare.ts's),
// DISTQ_TWO=0 (skip the two-student run), DISTQ_TEACHER_K (the teacher's prototypes, the distillation heads
// follow; default the fixture's 16).
// Last line: `margin X gap Y`: X the smallest (distilled − scratch) over seeds, Y the largest (teacher − distilled).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  distilledStudents,
  qualityProject,
  rawPixelPrecision,
  scratchStudent,
  SMALL_STUDENT,
  TINY_STUDENT,
  trainTeacher,
} from '../core/train/distill/quality-compare.js';
import { fmtMachine } from './lib/machine.js';

const seeds = (process.env.DISTQ_SEEDS ?? '0,1,2').split(',').map(Number);
const teacherSteps = Number(process.env.DISTQ_TEACHER_STEPS ?? 600);
const studentSteps = Number(process.env.DISTQ_STUDENT_STEPS ?? 200);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const distilTemp = process.env.DISTQ_TEMP ? Number(process.env.DISTQ_TEMP) : undefined;
const distilLr = process.env.DISTQ_LR ? Number(process.env.DISTQ_LR) : undefined;
const patchSim = process.env.DISTQ_PATCHSIM ? Number(process.env.DISTQ_PATCHSIM) : undefined;
const two = process.env.DISTQ_TWO !== '0';
const teacherPrototypes = process.env.DISTQ_TEACHER_K ? Number(process.env.DISTQ_TEACHER_K) : undefined;
const distilOverrides = process.env.DISTQ_OVERRIDES ? (JSON.parse(process.env.DISTQ_OVERRIDES) as Record<string, unknown>) : undefined;
const out = (s: string): void => void process.stdout.write(s + '\n');

out(
  `distill-quality: ${fmtMachine()}, ${threads} threads; teacher ${teacherSteps} steps, students ${studentSteps} steps` +
    `${distilTemp !== undefined ? `, τ_t ${distilTemp}` : ''}${distilLr !== undefined ? `, distillation lr ${distilLr}` : ''}` +
    `${patchSim !== undefined ? `, patch similarity ${patchSim}` : ''}${distilOverrides ? `, overrides ${JSON.stringify(distilOverrides)}` : ''}${teacherPrototypes !== undefined ? `, teacher K ${teacherPrototypes}` : ''}`,
);
out(`raw pixels (better of pixels, mean+std): ${rawPixelPrecision().toFixed(3)}`);
out('seed  teacher  distilled  scratch  margin  gap    | two-student run: tiny  small   (s: teacher, distil, scratch, two)');
let margin = Infinity;
let gap = -Infinity;
for (const seed of seeds) {
  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-distill-quality-'));
  try {
    const project = await qualityProject(dir);
    const o = { seed, teacherSteps, studentSteps, threads, distilTemp, distilLr, patchSim, teacherPrototypes, distilOverrides };
    const t = await trainTeacher(project, dir, o);
    const d = await distilledStudents(project, t.weights, [TINY_STUDENT], o);
    const s = await scratchStudent(project, o);
    const m = two ? await distilledStudents(project, t.weights, [TINY_STUDENT, SMALL_STUDENT], o) : null;
    const dt = d.precision.tiny;
    margin = Math.min(margin, dt - s.precision);
    gap = Math.max(gap, t.precision - dt);
    out(
      `${String(seed).padEnd(4)}  ${t.precision.toFixed(3)}    ${dt.toFixed(3)}      ${s.precision.toFixed(3)}    ${(dt - s.precision).toFixed(3)}   ${(t.precision - dt).toFixed(3)}  |` +
        `                  ${m ? `${m.precision.tiny.toFixed(3)} ${m.precision.small.toFixed(3)}` : '—     —    '}   (${[t.seconds, d.seconds, s.seconds, m?.seconds ?? 0].map((x) => x.toFixed(0)).join(', ')})`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
out(`margin ${margin.toFixed(3)} gap ${gap.toFixed(3)}`);

// `npm run bench -- distill`: DINOv3 distillation throughput (tiles per second; each tile is 2 global + nLocal
// local crops) of our step — the frozen teacher's forward once, then each student's forward/backward/AdamW
// graph and its EMA — against the same step in PyTorch (bench/python/distill_ref.py: same crops, heads,
// Sinkhorn-Knopp targets, losses, clipping, AdamW, EMA), and what a second student costs: one run with both
// students against the two single runs (the second run pays the teacher forward again).
// Default: a ViT-S/16 teacher (random weights with fresh heads: the cost does not depend on the values) and
// ViT-Tiny/16 students at the Quick preset's crops (2 × 112 + 6 × 48 px, K 4096, hidden 1024), B 8; the
// second student is a 6-block Tiny (a second "small model" that fits under the ViT-S teacher).
// Environment: BENCH_THREADS (2), BENCH_STEPS (3 timed after 1 warm-up), BENCH_BATCH (8),
// BENCH_TEACHER ("384,12,6": dim,depth,heads), BENCH_STUDENTS ("192,12,3;192,6,3").
// Last line: `ratio <ours/pytorch throughput>` of the two-student run.
import { vitConfig, type ViTConfig } from '../core/model/config.js';
import { initParams, toGraphLayout } from '../core/model/params.js';
import { type TrainConfig, headConfig } from '../core/train/config.js';
import { distilConfig, type StudentSpec } from '../core/train/distill/config.js';
import { distillEstimate } from '../core/train/distill/estimate.js';
import { type DistillTeacher } from '../core/train/distill/teacher.js';
import { DistillTrainer, newStudentState } from '../core/train/distill/trainer.js';
import { headLayout, initHeadParams } from '../core/train/heads.js';
import { HEADS } from '../core/train/model.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMachine } from './lib/machine.js';
import { median, randomBatch } from './lib/train-ref.js';
import { torchEnv } from './lib/torch-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const threads = Number(process.env.BENCH_THREADS ?? 2);
const steps = Number(process.env.BENCH_STEPS ?? 3);
const batch = Number(process.env.BENCH_BATCH ?? 8);
const teacherArg = process.env.BENCH_TEACHER ?? '384,12,6';
const studentArgs = (process.env.BENCH_STUDENTS ?? '192,12,3;192,6,3').split(';');
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

const dims = (s: string): { dim: number; depth: number; heads: number } => {
  const [dim, depth, heads] = s.split(',').map(Number);
  return { dim, depth, heads };
};
const config: TrainConfig = distilConfig('quick', { batchSize: batch, steps: 100, runtime: { threads } });
const teacherVit: ViTConfig = vitConfig('small', { arch: 'dinov2', patchSize: 16, registers: 4, ...dims(teacherArg) });

function randomTeacher(): DistillTeacher {
  const head = headConfig(config, teacherVit);
  const params = new Map(Object.entries(initParams(teacherVit, 1)).map(([k, t]) => [k, toGraphLayout(k, t)]));
  HEADS.forEach((h, i) => {
    for (const [k, t] of Object.entries(initHeadParams(head, teacherVit.dim, 2 + i))) params.set(`${h}/${k}`, headLayout(t));
  });
  return {
    weights: '(random)',
    source: '(random)',
    vit: teacherVit,
    head,
    heads: 'fresh',
    params,
    line: 'teacher: random weights, fresh heads',
  };
}

// Student specs: sizes only name them (each size once); the dims come from BENCH_STUDENTS.
const NAMES = ['tiny', 'small', 'base'] as const;
const specs: StudentSpec[] = studentArgs.map((s, i) => ({ size: NAMES[i], vit: dims(s) }));

async function ours(which: StudentSpec[]): Promise<{ ms: number[]; teacherMs: number[] }> {
  const teacher = randomTeacher();
  let s = 0;
  const tr = await DistillTrainer.create(
    config,
    teacher,
    which.map((w) => newStudentState(config, teacher, w)),
    { next: async () => randomBatch(config, s++) },
    0,
  );
  const ms: number[] = [];
  const teacherMs: number[] = [];
  try {
    for (let i = 0; i < 1 + steps; i++) {
      const t0 = performance.now();
      const r = await tr.step();
      const dt = performance.now() - t0;
      log(
        `ours step ${i} ${dt.toFixed(0)} ms (teacher ${r.teacherMs.toFixed(0)} ms; ${r.students.map((x) => `${x.name} ${x.ms.toFixed(0)} ms loss ${x.losses.total.toFixed(4)}`).join(', ')})`,
      );
      if (i >= 1) {
        ms.push(dt);
        teacherMs.push(r.teacherMs);
      }
    }
  } finally {
    await tr.close();
  }
  return { ms, teacherMs };
}

function torch(which: string[]): { ms: number[]; teacherMs: number[] } {
  const c = config;
  const args = {
    patch: 16,
    registers: 4,
    batch: c.batchSize,
    'global-size': c.crops.globalSize,
    'local-size': c.crops.localSize,
    'local-crops': c.crops.localCrops,
    prototypes: c.head.prototypes,
    hidden: c.head.hidden,
    bottleneck: c.head.bottleneck,
    steps,
    warmup: 1,
    threads,
    teacher: teacherArg,
    students: which.join(';'),
  };
  const argv = [join(root, 'bench/python/distill_ref.py'), ...Object.entries(args).flatMap(([k, x]) => [`--${k}`, String(x)])];
  const r = spawnSync('/usr/bin/python3', argv, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: torchEnv({ OMP_NUM_THREADS: String(threads) }),
  });
  if (r.status !== 0) throw new Error(`distill_ref.py failed (status ${r.status}); does /usr/bin/python3 have torch?`);
  const j = JSON.parse(r.stdout.toString().trim().split('\n').pop() ?? '{}') as { ms: number[]; teacher_ms: number[] };
  return { ms: j.ms, teacherMs: j.teacher_ms };
}

log(`machine: ${fmtMachine()}`);
const est = distillEstimate(
  config,
  teacherVit,
  specs.map((s) => ({ name: s.size, vit: newStudentState(config, randomTeacher(), s).vit })),
);
for (const l of est.lines) log(`estimate: ${l}`);
const runs: { label: string; specs: StudentSpec[]; torch: string[] }[] = [
  { label: `both (${specs.map((s) => s.size).join(' + ')})`, specs, torch: studentArgs },
  ...specs.map((s, i) => ({ label: `${s.size} alone`, specs: [s], torch: [studentArgs[i]] })),
];
const rows: { label: string; ours: number; torch: number; ourTeacher: number; torchTeacher: number }[] = [];
for (const r of runs) {
  log(`-- ${r.label}: teacher ${teacherArg}, students ${r.torch.join('; ')}, B ${batch}, ${threads} threads`);
  const o = await ours(r.specs);
  const t = torch(r.torch);
  rows.push({
    label: r.label,
    ours: median(o.ms),
    torch: median(t.ms),
    ourTeacher: median(o.teacherMs),
    torchTeacher: median(t.teacherMs),
  });
  log(`load after: ${fmtMachine()}`);
}
out(`distillation step, teacher ${teacherArg} (dim,depth,heads), B ${batch}, ${threads} threads; ${fmtMachine()}`);
out('| run | ours ms/step | tiles/s | teacher forward ms | PyTorch ms/step | tiles/s | teacher forward ms |');
out('|---|---|---|---|---|---|---|');
for (const r of rows)
  out(
    `| ${r.label} | ${r.ours.toFixed(0)} | ${((batch * 1000) / r.ours).toFixed(2)} | ${r.ourTeacher.toFixed(0)} | ${r.torch.toFixed(0)} | ${((batch * 1000) / r.torch).toFixed(2)} | ${r.torchTeacher.toFixed(0)} |`,
  );
if (rows.length >= 3) {
  const singles = rows.slice(1).reduce((a, r) => a + r.ours, 0);
  out(
    `multi-student: one run with ${specs.length} students ${rows[0].ours.toFixed(0)} ms/step vs ${specs.length} single runs ${singles.toFixed(0)} ms/step in all (${((rows[0].ours / singles) * 100).toFixed(0)} % of the single runs' total: the teacher forward is shared)`,
  );
}
out(`ratio ${(rows[0].torch / rows[0].ours).toFixed(3)}`);

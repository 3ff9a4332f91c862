// What a distillation run needs, said before it starts: peak memory (the students' training steps as
// gram/memory.ts estimates them for pretraining, plus the frozen teacher's parameters and one block of its
// forward) and the work of a step (multiply-adds of the teacher forward and each student's forward + backward),
// so a user sees what a second student costs before paying for it. Seconds per step are measured by the run
// itself after its first steps (run.ts time budget); this is the relative cost.
import { type ViTConfig, ffnHidden } from '../../model/config.js';
import { paramCount } from '../../model/params.js';
import { type TrainConfig } from '../config.js';
import { estimatePeakMemory, formatMemory } from '../gram/memory.js';

/** Forward FLOPs of one image of side `side` (2 per multiply-add: projections, attention, FFN). */
export function forwardFlops(c: ViTConfig, side: number): number {
  const g = Math.floor(side / c.patchSize);
  const T = 1 + c.registers + g * g;
  const D = c.dim;
  const F = ffnHidden(c) * (c.ffn === 'swiglu' ? 1.5 : 1);
  const perBlock = 2 * T * D * 3 * D + 2 * T * D * D + 2 * 2 * T * T * D + 2 * 2 * T * D * F;
  return c.depth * perBlock + 2 * g * g * c.inChans * c.patchSize * c.patchSize * D;
}

export interface DistillEstimate {
  totalBytes: number;
  teacherGflop: number;
  students: { name: string; bytes: number; gflop: number }[];
  lines: string[];
}

export function distillEstimate(c: TrainConfig, teacher: ViTConfig, students: { name: string; vit: ViTConfig }[]): DistillEstimate {
  const B = c.batchSize;
  const { globalSize: G, localSize: L, localCrops: nL } = c.crops;
  const teacherGflop = (2 * B * forwardFlops(teacher, G)) / 1e9;
  const teacherBytes = paramCount(teacher) * 4 + 2 * B * 4 * (1 + teacher.registers + (G / teacher.patchSize) ** 2) * teacher.dim * 8;
  const rows = students.map((s) => {
    // The student's step: as a pretraining step without a second teacher copy (its EMA is one).
    const m = estimatePeakMemory(s.vit, { global: G, local: L, gram: G }, { batch: B, localCrops: nL, remat: c.runtime.remat });
    const gflop = (3 * (2 * B * forwardFlops(s.vit, G) + nL * B * forwardFlops(s.vit, L))) / 1e9;
    return { name: s.name, bytes: m.totalBytes, gflop };
  });
  const totalBytes = teacherBytes + rows.reduce((a, r) => a + r.bytes, 0);
  const all = teacherGflop + rows.reduce((a, r) => a + r.gflop, 0);
  const lines = [
    `memory: ${formatMemory(totalBytes)} (teacher ${(teacherBytes / 2 ** 20).toFixed(0)} MB frozen; ${rows.map((r) => `${r.name} ${(r.bytes / 2 ** 20).toFixed(0)} MB`).join(', ')})`,
    `work: ${all.toFixed(1)} GFLOP a step: the teacher forward ${teacherGflop.toFixed(1)} (once, shared), ${rows
      .map((r) => `${r.name} ${r.gflop.toFixed(1)}`)
      .join(', ')}; seconds per step are measured after the first steps`,
  ];
  return { totalBytes, teacherGflop, students: rows, lines };
}

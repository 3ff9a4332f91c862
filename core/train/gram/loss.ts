// Gram anchoring (DINOv3, dinov3/loss/gram_loss.py; shared/reference/dino-recipes.md §3): the student's
// patch tokens of a global crop against a frozen Gram teacher's patch tokens of the same crop, usually at a
// higher resolution. The teacher map is bicubically resized (PyTorch F.interpolate, align_corners=False, no
// antialias) to the student's grid, both sides are L2-normalised per token, and the loss is the mean squared
// difference of the per-image Gram matrices: L = mean_{b,i,j} (X_S X_Sᵀ − X_G X_Gᵀ)². The teacher side is
// stop-gradient.
import { stopGradient } from '../../graph/autodiff.js';
import { type Graph } from '../../graph/graph.js';
import { sub, mul } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/linalg.js';
import { l2Normalize } from '../../graph/ops/nn.js';
import { reduceMean } from '../../graph/ops/reduce.js';
import { reshape, transpose, transposeLast2 } from '../../graph/ops/shape.js';
import { resize2d } from '../../graph/resample.js';
import { type Tensor, fmtShape } from '../../graph/tensor.js';

/** Patch grids (rows × cols) of the student and of the Gram teacher; N = h·w for each. */
export interface GramGrids {
  student: { h: number; w: number };
  teacher: { h: number; w: number };
}

/**
 * The teacher's patch tokens (B, Nt, D) on its (th × tw) grid resized to the student's (sh × sw) grid:
 * (B, sh·sw, D). Identity when the grids match.
 */
export function resizeTokenGrid(g: Graph, tokens: Tensor, from: { h: number; w: number }, to: { h: number; w: number }): Tensor {
  const [b, n, d] = tokens.shape;
  if (tokens.rank !== 3 || n !== from.h * from.w) {
    throw new Error(`resizeTokenGrid: tokens ${fmtShape(tokens.shape)} do not fit a ${from.h}×${from.w} grid`);
  }
  if (from.h === to.h && from.w === to.w) return tokens;
  const maps = transpose(reshape(tokens, [b, from.h, from.w, d]), [0, 3, 1, 2]); // (B, Nt, D) → (B, th, tw, D) → (B, D, th, tw)
  const resized = resize2d(g, maps, to.h, to.w, { mode: 'bicubic', antialias: false }); // (B, D, sh, sw)
  return reshape(transpose(resized, [0, 2, 3, 1]), [b, to.h * to.w, d]); // (B, D, sh, sw) → (B, sh, sw, D) → (B, sh·sw, D)
}

/** Per-image Gram matrix of L2-normalised tokens: (B, N, D) → (B, N, N). */
export function gramMatrix(tokens: Tensor): Tensor {
  const x = l2Normalize(tokens, -1); // (B, N, D), unit rows
  return matmul(x, transposeLast2(x)); // (B, N, D) @ (B, D, N) → (B, N, N)
}

/**
 * The Gram anchoring loss, a scalar. `studentPatches` (B, N, D) with N = grids.student.h·w;
 * `teacherPatches` (B, Nt, Dt) with Nt = grids.teacher.h·w, any width Dt (no gradient flows into it).
 */
export function gramLoss(g: Graph, studentPatches: Tensor, teacherPatches: Tensor, grids: GramGrids): Tensor {
  const s = studentPatches.shape;
  const t = teacherPatches.shape;
  if (studentPatches.rank !== 3 || teacherPatches.rank !== 3) {
    throw new Error(`gramLoss: expected (B, N, D) patches, got student ${fmtShape(s)} and teacher ${fmtShape(t)}`);
  }
  // The widths may differ (a distillation teacher is wider than its student): the Gram matrices are N × N.
  if (s[0] !== t[0]) throw new Error(`gramLoss: student ${fmtShape(s)} and teacher ${fmtShape(t)} differ in batch`);
  if (s[1] !== grids.student.h * grids.student.w)
    throw new Error(`gramLoss: student ${fmtShape(s)} is not a ${grids.student.h}×${grids.student.w} grid`);
  if (t[1] !== grids.teacher.h * grids.teacher.w)
    throw new Error(`gramLoss: teacher ${fmtShape(t)} is not a ${grids.teacher.h}×${grids.teacher.w} grid`);
  const teacher = resizeTokenGrid(g, stopGradient(teacherPatches), grids.teacher, grids.student); // (B, N, D)
  const diff = sub(gramMatrix(studentPatches), stopGradient(gramMatrix(teacher))); // (B, N, N)
  return reduceMean(mul(diff, diff)); // mean over b, i, j → scalar
}

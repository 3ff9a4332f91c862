// Feature regression for distillation (a documented deviation from DINOv3's recipe, which distils through the
// heads only; core/train/distill/README.md gives the measurements behind it). Each student patch token of an
// unmasked global crop is pulled towards the frozen teacher's token at the same position:
//   target_i = (t_i − μ) P      the teacher token centred, projected on the teacher's top k principal components
//                               and whitened (each component divided by its standard deviation), fitted once on
//                               the first step's teacher tokens; k = ⌈D_s / 2⌉ (at most D_t), the student's
//                               other dimensions regressed to 0
//   L = mean_i (1 − cos(s_i, target_i))
// Why centred, projected and whitened, rather than a learned adaptor (FitNets, RADIO):
// - no new parameters, so checkpoints, the EMA and the registered model stay those of a pretraining run;
// - the cosine neighbours of final-norm tokens are dominated by the component every token shares, which the
//   centring removes;
// - what separates regions is a few low-variance directions of the teacher's tokens: a shallow student
//   explains ~80 % of a teacher's token variance with no training at all, so an unwhitened regression spends
//   itself on the directions it already has. Whitening gives each of the k directions the same weight.
import { stopGradient } from '../../graph/autodiff.js';
import { l2Normalize } from '../../graph/ops/nn.js';
import { reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { mul, sub } from '../../graph/ops/elementwise.js';
import { type HostTensor, type Tensor, fmtShape } from '../../graph/tensor.js';
import { fitPca } from '../../features/pca.js';
import { matmul } from '../../graph/ops/linalg.js';

/** The loss on student tokens (B, N, D) and their targets (B, N, D) (no gradient flows into the targets). */
export function featureDistilLoss(student: Tensor, target: Tensor): Tensor {
  if (student.rank !== 3 || target.rank !== 3 || student.shape.some((d, i) => d !== target.shape[i]))
    throw new Error(`featureDistilLoss: student ${fmtShape(student.shape)} and target ${fmtShape(target.shape)} differ`);
  const cos = reduceSum(mul(l2Normalize(student, -1), l2Normalize(stopGradient(target), -1)), [-1]); // (B, N)
  return sub(1, reduceMean(cos));
}

/** The targets in the graph: (t − μ) P for teacher tokens (B, N, Dt), μ (Dt) and P (Dt, Ds) → (B, N, Ds). */
export function projectTokens(tokens: Tensor, mean: Tensor, projection: Tensor): Tensor {
  return matmul(sub(tokens, mean), projection);
}

/** The teacher's token projection: `mean` (Dt) and `projection` (Dt, Ds), whitened components as columns. */
export interface TeacherProjection {
  mean: Float32Array;
  /** (Dt, Ds) row-major; the columns past the k components are zero. */
  projection: Float32Array;
  teacherDim: number;
  studentDim: number;
}

/** The number of teacher components a student of width `studentDim` regresses (⌈D_s / 2⌉, at most D_t). */
export const featureComponents = (studentDim: number, teacherDim: number): number => Math.min(Math.ceil(studentDim / 2), teacherDim);

/** Fits the whitened projection of the teacher's tokens (…, Dt) on their top principal components. */
export function fitTeacherProjection(tokens: HostTensor, studentDim: number): TeacherProjection {
  const dt = tokens.dims[tokens.dims.length - 1];
  const n = tokens.data.length / dt;
  const pca = fitPca(tokens.data as Float32Array, n, dt, featureComponents(studentDim, dt));
  const k = pca.components.length / dt;
  const projection = new Float32Array(dt * studentDim);
  for (let c = 0; c < k; c++) {
    // A component the tokens do not vary along (variance ~0) is left out rather than blown up.
    const v = pca.variances[c];
    const scale = v > 1e-12 ? 1 / Math.sqrt(v) : 0;
    for (let j = 0; j < dt; j++) projection[j * studentDim + c] = scale * pca.components[c * dt + j];
  }
  return { mean: pca.mean, projection, teacherDim: dt, studentDim };
}

// The environment of a PyTorch reference process. These build machines set OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE (older OpenBLAS builds misbehave without them), which halve Debian PyTorch's sgemm
// (20 vs 42 GFLOP/s): a reference run under them is unfair to PyTorch. Both are unset for the reference's
// own process only; each bench/python/*_ref.py prints the OpenBLAS core it ran on stderr, and warns when
// PyTorch runs on Debian's reference BLAS instead (libblas3 alone: install libopenblas0-pthread).
export function torchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

"""PCA map fit reference: the DINOv2 notebooks' recipe with NumPy (float64 covariance by BLAS, LAPACK eigh),
the two fits of the maps (all sampled patches; then the foreground, first component > 0). Reads the (n, d)
float32 sample written by bench/pca.bench.ts; prints {"ms": [per width ...]} as its last line."""
import json
import sys
import time

import numpy as np

from blas_core import blas_core


def fit(x: np.ndarray, k: int = 3) -> np.ndarray:
    xc = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)
    cov = xc.T @ xc / (len(x) - 1)
    w, v = np.linalg.eigh(cov)
    return v[:, ::-1][:, :k].T


def main() -> None:
    path, n, dims = sys.argv[1], int(sys.argv[2]), [int(d) for d in sys.argv[3].split(",")]
    print(f"numpy {np.__version__}, OpenBLAS core {blas_core()}", file=sys.stderr)
    raw = np.fromfile(path, dtype=np.float32)
    out, offset = [], 0
    for d in dims:
        x = raw[offset : offset + n * d].reshape(n, d)
        offset += n * d
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            base = fit(x)
            proj = (x - x.mean(axis=0)) @ base[0]
            fit(x[proj > 0])
            best = min(best, (time.perf_counter() - t0) * 1000)
        out.append(best)
    print(json.dumps({"ms": out}))


if __name__ == "__main__":
    main()

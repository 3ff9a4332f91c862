"""Prints the OpenBLAS core this process's PyTorch runs on (stderr), so a bench states which sgemm kernel
its reference used (the build machines' OPENBLAS_CORETYPE would otherwise pick a slower one)."""
import ctypes
import sys


def blas_core() -> str:
    # Debian's PyTorch and NumPy load OpenBLAS as libblas.so.3 (the BLAS alternative) or by its own soname;
    # CDLL returns the copy already loaded.
    for name in ("libopenblas.so.0", "libopenblasp.so.0", "libopenblaso.so.0", "libblas.so.3"):
        try:
            get = ctypes.CDLL(name).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_char_p
        return get().decode()
    return "unknown (no OpenBLAS loaded)"


def reference_blas_loaded() -> bool:
    """Whether this process's BLAS is netlib's reference implementation (Debian's libblas3, the default
    libblas.so.3 when no OpenBLAS is installed): unblocked loops, several times slower than OpenBLAS."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return False
    return "/blas/libblas.so.3" in maps and "openblas" not in maps


def print_blas_core(prefix: str) -> None:
    print(f"{prefix}: PyTorch BLAS core {blas_core()}", file=sys.stderr)
    if reference_blas_loaded():
        print(
            f"{prefix}: WARNING: PyTorch runs on the reference BLAS (netlib libblas3), several times slower than "
            "OpenBLAS, so this reference is unfair to PyTorch: install OpenBLAS (Debian: apt install "
            "libopenblas0-pthread) and run again.",
            file=sys.stderr,
        )

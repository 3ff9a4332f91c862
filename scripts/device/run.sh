#!/bin/bash
# The GPU check, on the device machine, from the repository root, with .devgpu and dist/cli carried (see
# README.md): unpacks Node and the runtime packages, puts the Vulkan / GL loaders in place for
# onnxruntime's WebGPU provider, then runs
#   1. the product path: `dinoscope extract --device cpu | webgpu | auto` on a generated image
#      (check.sh), and
#   2. `bench/gpu.bench.ts` (extraction and training on each GPU provider against PyTorch CUDA).
# Environment: SIDE (patch grid side of the check image, 128), BENCH_* (bench/gpu.bench.ts), OUT (logs).
set -u
OUT=${OUT:-/tmp/dinoscope-device}; mkdir -p "$OUT"
P=/tmp/dinoscope-devpack
rm -rf "$P" && mkdir -p "$P" && tar xJf .devgpu/pack.tar.xz -C "$P"
ln -sfn "$P/node_modules" node_modules # node resolves a package's own imports only under node_modules/
for f in .devgpu/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
# The NVIDIA driver's Vulkan ICD and EGL vendor files on these machines (README.md).
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
NODE="$P/node" SIDE=${SIDE:-128} OUT="$OUT" timeout 240 bash scripts/device/check.sh 2>&1 | tee "$OUT/check.log"
PY=$(command -v python3)
BENCH_PYTHON=${BENCH_PYTHON:-$PY} timeout "${BENCH_TIMEOUT:-400}" "$P/node" .devgpu/gpu.mjs 2>&1 | grep -v '^ *at \|^Warning\|FutureWarning\|WeightNorm' | tee "$OUT/gpu.log"

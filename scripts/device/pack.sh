#!/bin/bash
# Packs what the GPU check needs into .devgpu/ (git-ignored through .git/info/exclude), for a machine that
# has no Node.js and no npm registry: this Node binary, the runtime packages the bundles import
# (onnxruntime-node for linux-x64 without its CUDA libraries, sharp with its libvips, ws), the Vulkan / GL
# loaders onnxruntime's WebGPU provider (Dawn over Vulkan) needs, and two bundles: bench/gpu.bench.ts
# (.devgpu/gpu.js) and scripts/device/devcheck.ts (.devgpu/devcheck.mjs). Also builds dist/cli.
# About 49 MB in all (xz): under the device tool's 64 MiB. Run from the repository root after npm install.
set -eu
R=$PWD
grep -qx '/.devgpu/' .git/info/exclude || echo '/.devgpu/' >> .git/info/exclude
rm -rf .devgpu /tmp/dinoscope-devpack && mkdir -p .devgpu/debs /tmp/dinoscope-devpack/node_modules/@img /tmp/dinoscope-devpack/node_modules/onnxruntime-node/bin/napi-v6/linux
P=/tmp/dinoscope-devpack
cp "$(readlink -f "$(command -v node)")" "$P/node"
for m in onnxruntime-common sharp detect-libc semver ws; do cp -r "node_modules/$m" "$P/node_modules/"; done
cp -r node_modules/@img/* "$P/node_modules/@img/"
cp -r node_modules/onnxruntime-node/{dist,lib,package.json} "$P/node_modules/onnxruntime-node/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$P/node_modules/onnxruntime-node/bin/napi-v6/linux/"
(cd "$P" && tar -cf - node node_modules | xz -9 -T0 > "$R/.devgpu/pack.tar.xz")
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update >/dev/null
(cd .devgpu/debs && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
node scripts/device/bundle.mjs
node scripts/build.mjs cli
du -sh .devgpu dist/cli

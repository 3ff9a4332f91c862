#!/bin/bash
# The product path on a GPU machine: the built CLI's `dinoscope extract --device cpu`, then
# `--device webgpu`, then `--device auto` resuming the webgpu store, on a generated SIDE × SIDE-patch PNG
# with a random ViT-S/14 reg4 (tiles of 20 × 20 patches); prints each run's log and summary (provider,
# patches/s), the providers each store's manifest records, and max |webgpu − cpu| / rms over the stored
# (float16) features; then `dinoscope hardware --check` on webgpu and cuda. Run by run.sh (NODE = the packed
# Node); locally it uses this checkout's node.
set -u
R=$PWD; W=/tmp/dinoscope-devcheck; OUTD=${OUT:-/tmp/dinoscope-device}; SIDE=${SIDE:-128}; N=${NODE:-node}
rm -rf "$W"; mkdir -p "$W" "$OUTD"
D() { "$N" "$R/bin/dinoscope.js" "$@"; }
echo "node $("$N" --version); $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi'); $(nproc) cores"
"$N" .devgpu/devcheck.mjs image "$W/slide.png" "$SIDE" || exit 1
for p in cpu gpu; do D import "$W/p-$p" "$W/slide.png" >/dev/null 2>"$OUTD/import-$p.err" || { cat "$OUTD/import-$p.err"; exit 1; }; "$N" .devgpu/devcheck.mjs model "$W/p-$p" || exit 1; done
X() { local name=$1; shift; local t0=$(date +%s.%N); D extract --model vits-random --level 0 --context tiled "$@" >"$OUTD/$name.json" 2>"$OUTD/$name.err"; local rc=$?; echo "== $name (rc $rc, $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s wall): stderr:"; grep -v '^extract: [0-9]' "$OUTD/$name.err"; grep '^extract: [0-9]' "$OUTD/$name.err" | tail -1; "$N" -e "const s=JSON.parse(require('fs').readFileSync('$OUTD/$name.json','utf8'));console.log('summary: provider '+s.provider+', '+s.patches+' patches in '+s.seconds.toFixed(2)+' s = '+s.patchesPerSecond.toFixed(0)+' patches/s')" 2>/dev/null; }
X cpu --project "$W/p-cpu" --device cpu
X webgpu --project "$W/p-gpu" --device webgpu
X auto-resume --project "$W/p-gpu"
for p in cpu gpu; do echo "== manifest providers ($p): $("$N" -e "const fs=require('fs'),path=require('path');const d='$W/p-'+'$p'+'/cache/features';for(const f of fs.readdirSync(d,{recursive:true}))if(f.endsWith('.zarr/zarr.json'))console.log(JSON.stringify(JSON.parse(fs.readFileSync(path.join(d,f),'utf8')).attributes.dinoscope.providers))")"; done
echo "== webgpu vs cpu stored features: $("$N" .devgpu/devcheck.mjs compare "$W/p-gpu" "$W/p-cpu")"
# Placement and CPU equality of the extraction and training graphs on each provider that opens here.
for p in webgpu cuda; do echo "== dinoscope hardware --check $p (rc at the end):"; D hardware --check "$p" >"$OUTD/hardware-$p.json" 2>"$OUTD/hardware-$p.err"; rc=$?; tail -3 "$OUTD/hardware-$p.err"; echo "rc $rc"; done

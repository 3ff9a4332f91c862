// Device check helper (bundled to .devgpu/devcheck.mjs by scripts/device/pack.sh; not part of the app):
//   image <file.png> <side-in-patches>   a textured PNG (patch 14)
//   model <projectDir>                     a random ViT-S/14 reg4 (seed 0) as the project model vits-random
//   compare <projectA> <projectB>          every chunk of every store of A vs B: max |a - b| / rms(b)
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { fromFloat16 } from '../../core/common/half.js';
import { texture } from '../../core/features/extract/fixture.js';
import { projectModelsDir } from '../../core/model/manager/paths.js';
import { vitConfig } from '../../core/model/config.js';
import { initParams } from '../../core/model/params.js';
import { exportWeights } from '../../core/model/weights/export.js';
import type { WeightTensor } from '../../core/model/weights/safetensors.js';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'image') {
  const side = Number(b) * 14;
  await writeFile(
    a,
    await sharp(texture(side, side, 3), { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer(),
  );
} else if (cmd === 'model') {
  const cfg = vitConfig('small', { arch: 'dinov2', registers: 4 });
  const w = initParams(cfg, 0);
  const tensors = new Map<string, WeightTensor>(
    Object.entries(w).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(a), 'vits-random'), cfg, tensors, 'hf');
} else if (cmd === 'compare') {
  const chunk = /\.zarr\/0\/c\/0\/\d+\/\d+$/;
  const rel = (root: string, f: string): string => f.slice(root.length);
  const fa = (await files(join(a, 'cache', 'features'))).filter((f) => chunk.test(f));
  let worst = 0;
  let ss = 0;
  let n = 0;
  let chunks = 0;
  for (const f of fa) {
    const other = join(b, 'cache', 'features') + rel(join(a, 'cache', 'features'), f);
    const x = fromFloat16(new Uint16Array((await readFile(f)).buffer.slice(0)));
    const y = fromFloat16(new Uint16Array((await readFile(other)).buffer.slice(0)));
    for (let i = 0; i < y.length; i++) {
      worst = Math.max(worst, Math.abs(x[i] - y[i]));
      ss += y[i] * y[i];
    }
    n += y.length;
    chunks++;
  }
  console.log(JSON.stringify({ chunks, values: n, maxAbsDiffOverRms: worst / Math.sqrt(ss / Math.max(n, 1)) }));
} else throw new Error(`devcheck: unknown command ${cmd}`);

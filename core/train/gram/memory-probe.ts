// Measures the peak RSS growth of one tiny-ViT student forward+backward in onnxruntime, in a fresh process
// (RSS high-water marks are per process): `node --import tsx memory-probe.ts SIDE IMAGES REMAT` prints
// {"measured": bytes} on stdout. Used by memory.test.ts to check the estimate; not part of the app.
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { mul } from '../../graph/ops/elementwise.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, vitConfig } from '../../model/config.js';
import { initParams, toGraphLayout } from '../../model/params.js';
import { buildViT } from '../../model/vit.js';

/** The tiny ViT the memory check measures (ViT-Ti width 96, 4 blocks, DINOv3 RoPE, patch 16). */
export function probeConfig(): ViTConfig {
  return vitConfig('tiny', { arch: 'dinov3', dim: 96, heads: 3, depth: 4 });
}

/** Peak RSS growth (bytes) over one forward+backward of `images` crops of side `side`. */
export async function measureStudentStep(c: ViTConfig, images: number, side: number, remat: boolean): Promise<number> {
  const g = new Graph('mem');
  const x = g.input('images', [images, 3, side, side], 'float32');
  const r = buildViT(g, x, c, { remat });
  const n = r.patches.shape[1];
  const w = g.input('w', [images, n, c.dim], 'float32');
  const loss = reduceSum(mul(r.patches, w), undefined, false); // scalar Σ patches·w
  const names = Object.keys(r.params);
  grad(
    loss,
    names.map((k) => r.params[k]),
  ).forEach((d, i) => g.output(d, `grad/${names[i]}`));
  g.output(loss, 'loss');
  const bytes = serialize(g);
  const values = initParams(c, 3);
  const feeds: Record<string, HostTensor> = Object.fromEntries(names.map((k) => [k, toGraphLayout(k, values[k])]));
  feeds.images = hostTensor(
    'float32',
    [images, 3, side, side],
    Float32Array.from({ length: images * 3 * side * side }, (_, i) => Math.sin(i * 0.37)),
  );
  feeds.w = hostTensor(
    'float32',
    [images, n, c.dim],
    Float32Array.from({ length: images * n * c.dim }, (_, i) => Math.cos(i * 0.11)),
  );
  const before = process.memoryUsage().rss;
  const s = await Session.create(bytes, { intraOpThreads: 2, cpuArena: false });
  await s.run(feeds);
  const peak = process.resourceUsage().maxRSS * 1024;
  await s.release();
  return peak - before;
}

if (process.argv[1]?.endsWith('memory-probe.ts')) {
  const [side, images, remat] = process.argv.slice(2);
  const measured = await measureStudentStep(probeConfig(), Number(images), Number(side), remat === 'true');
  process.stdout.write(`${JSON.stringify({ measured })}\n`);
}

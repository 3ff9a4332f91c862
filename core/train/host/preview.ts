// The live PCA colouring of the Train panel: the teacher's patch features on one fixed
// tile — the centre of the project's first readable image, at the run's resolution, global-crop size —
// reduced to 3 principal components, min–max scaled per component to RGB, one pixel per patch, as a PNG.
import { sharp } from '../../io/sharp.js';
import type { HostTensor } from '../../graph/tensor.js';
import { TileModel } from '../../features/extract/model.js';
import { normaliseInto, readWorking } from '../../features/extract/pixels.js';
import { workingResolution } from '../../features/extract/resolution.js';
import { fitPca, project as projectPca, rgbRanges, toRgb } from '../../features/pca.js';
import { openImage } from '../../data/readers/registry.js';
import { withStatedMpp } from '../../data/resolution.js';
import type { ViTConfig } from '../../model/config.js';
import type { Project } from '../../project/project.js';
import { readablePath } from '../../project/importer.js';
import type { TrainConfig } from '../config.js';

/** The fixed preview tile as (1, 3, G, G) normalised float32, G = the global crop size. */
export async function previewTile(project: Project, config: TrainConfig, patchSize: number): Promise<Float32Array> {
  const img = project.images().find((i) => i.status === 'ok');
  if (!img) throw new Error(`${project.file}: no readable image for the preview tile`);
  const G = config.crops.globalSize;
  const reader = await openImage(readablePath(project, img));
  try {
    const meta = withStatedMpp(reader.meta, img.statedMpp);
    // The sampler's rule (core/data/resolution.ts): mpp when the run asks for one and the file states its
    // own, else the level.
    const level = Math.min(config.data.level, meta.levels.length - 1);
    const res = workingResolution(
      meta,
      config.data.mpp !== null ? { mpp: config.data.mpp, level, mppFallback: true } : { level },
      patchSize,
      reader.path,
    );
    const cx = Math.floor(meta.width / res.downsample / 2);
    const cy = Math.floor(meta.height / res.downsample / 2);
    const rgb = await readWorking(reader, res, Math.max(0, cx - G / 2), Math.max(0, cy - G / 2), G); // (G, G, 3)
    const buf = new Float32Array(3 * G * G); // (1, 3, G, G)
    normaliseInto(rgb, buf, 0);
    return buf;
  } finally {
    await reader.close();
  }
}

/** (n, d) patch features on a gridH × gridW grid → PNG (gridW × gridH) of their first 3 principal components. */
export async function pcaPng(features: Float32Array, gridH: number, gridW: number, dim: number): Promise<Buffer> {
  const n = gridH * gridW;
  const model = fitPca(features, n, dim, 3);
  const k = model.components.length / dim;
  const proj = projectPca(model, features, n); // (n, k)
  // k < 3 only for features narrower than 3: pad the missing columns with zeros.
  const full = new Float32Array(n * 3); // (n, 3)
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) full[r * 3 + c] = proj[r * k + c];
  const ranges = rgbRanges(full, n, 3, 0); // min–max per component
  // A component with next to no variance (rank-deficient features) would stretch rounding noise over the
  // full range: show it flat (mid grey) instead.
  const span0 = ranges.hi[0] - ranges.lo[0];
  for (let c = 0; c < 3; c++) {
    if (ranges.hi[c] - ranges.lo[c] > 1e-4 * span0) continue;
    [ranges.lo[c], ranges.hi[c]] = [-1, 1];
    for (let r = 0; r < n; r++) full[r * 3 + c] = 0;
  }
  const rgb = toRgb(full, n, 3, ranges);
  return sharp(rgb, { raw: { width: gridW, height: gridH, channels: 3 } })
    .png()
    .toBuffer();
}

/** The teacher's PCA preview of `tile` as a data URL (one session for this call, released after). */
export async function teacherPreview(
  vit: ViTConfig,
  backbone: ReadonlyMap<string, HostTensor>,
  tile: Float32Array,
  side: number,
  threads?: number,
): Promise<string> {
  const model = await TileModel.create(vit, Object.fromEntries(backbone), { batch: 1, side, outputs: ['patches'], threads });
  try {
    const g = Math.floor(side / vit.patchSize);
    const { patches } = await model.run(tile); // (1, g·g, D)
    const png = await pcaPng(patches, g, g, vit.dim);
    return `data:image/png;base64,${png.toString('base64')}`;
  } finally {
    await model.release();
  }
}

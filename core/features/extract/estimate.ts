// What an extraction will cost, before it starts: each image's patch grid at the chosen resolution, the
// images already complete in the set (a rerun resumes them for free), and a patches-per-second rate for
// the device: measured (this model's last completed run in the project on that device), else another
// model's measured run there scaled by the two models' compute per patch (the machine's real speed, load
// included), else estimated from the model's size. The estimate's constants come from `npm run bench -- extract` / `-- gpu` (ViT-S/14
// reg4, tiles of 20 × 20 patches keeping 16 × 16): 6,119 patches/s on 16 CPU cores ≈ 31 GFLOP/s per core,
// 92,126 on an H200 through WebGPU ≈ 7.4 TFLOP/s. A shared or slower machine runs slower than that.
// Rates are kept in model passes: the per-channel route (input.ts) runs each patch of a C-channel image
// through the model C times, so it costs C× a single pass for the same patches; a measured run's rate is
// turned back into single passes by its own set's route before it prices this one.
import { availableParallelism } from 'node:os';
import type { ExtractEstimate, ExtractOptions, ModelInfo } from '../../common/api.js';
import { imageMeta, type Project } from '../../project/project.js';
import { imagesPerTile, routeFor } from './input.js';
import { featureSetId } from './project.js';
import { collectionRequest, workingResolution } from './resolution.js';

const CPU_FLOPS_PER_CORE = 31e9;
const GPU_FLOPS = 7.4e12;
/** Tokens computed per kept patch in tiled extraction: (16 + 2·2)² / 16² (project.ts DEFAULT_CORE, DEFAULT_MARGIN). */
const TILE_OVERHEAD = 400 / 256;

/** Forward FLOPs per kept patch: the linear layers (2 per parameter) and attention over a 400-token tile. */
export function flopsPerPatch(model: Pick<ModelInfo, 'params' | 'dim' | 'depth'>): number {
  return (2 * model.params + model.depth * 4 * 400 * model.dim) * TILE_OVERHEAD;
}

/** Patches per second of `model` on `device` (cpu uses every core of this machine). */
export function estimatedRate(model: Pick<ModelInfo, 'params' | 'dim' | 'depth'>, device: string, cores = availableParallelism()): number {
  return (device === 'cpu' ? CPU_FLOPS_PER_CORE * cores : GPU_FLOPS) / flopsPerPatch(model);
}

/** The estimate for `o` with `model` running on `device`; `models` are the others that may have measured runs. */
export function estimateExtraction(
  project: Project,
  model: ModelInfo,
  o: ExtractOptions,
  device: string,
  models: readonly ModelInfo[] = [],
): ExtractEstimate {
  const setId = featureSetId(model.id, o);
  const set = project.featureSets().find((s) => s.id === setId);
  const complete = new Set((set?.images ?? []).filter((i) => i.complete).map((i) => i.imageId));
  const wanted = o.imageIds ? o.imageIds.map((id) => project.requireImage(id)) : project.images();
  const req = collectionRequest(
    o,
    project.images().map((i) => (i.status === 'ok' ? imageMeta(i)?.mpp : null)),
  );
  const out: ExtractEstimate = {
    featureSet: setId,
    images: 0,
    done: 0,
    patches: 0,
    grids: [],
    refused: [],
    patchesPerSecond: 0,
    rateFrom: 'estimated',
    device,
    seconds: 0,
  };
  /** Model passes of the patches still to extract: patches × C on the per-channel route. */
  let passes = 0;
  /** Model passes a patch of the run's multi-channel images takes (C on the per-channel route), else 1. */
  let passesPerPatch = 1;
  for (const img of wanted) {
    const meta = imageMeta(img);
    if (img.status !== 'ok' || !meta) continue;
    const route = routeFor(model, meta);
    if (typeof route !== 'string') {
      out.refused.push({ imageId: img.id, name: img.name, reason: `${model.id} cannot read it: ${route.refused}` });
      continue;
    }
    if (route !== 'rgb') out.route ??= route;
    const k = route === 'per-channel' ? meta.channels!.length : 1;
    if (k > 1) passesPerPatch = k;
    try {
      const r = workingResolution(meta, req, model.patchSize, img.name);
      out.images++;
      if (complete.has(img.id)) out.done++;
      else {
        out.patches += r.gridWidth * r.gridHeight;
        passes += r.gridWidth * r.gridHeight * k;
        out.grids.push({
          imageId: img.id,
          name: img.name,
          gridWidth: r.gridWidth,
          gridHeight: r.gridHeight,
          ...(r.mppFallback ? { fallbackLevel: r.level } : {}),
        });
      }
    } catch (e) {
      out.refused.push({ imageId: img.id, name: img.name, reason: (e as Error).message });
    }
  }
  // The newest completed run on this device: this model's, else a known model's, scaled.
  // A run's patches per second, in single model passes (its set's per-channel route ran C passes a patch).
  const runs = project
    .featureSets()
    .filter((s) => s.speed?.provider === device)
    .map((s) => ({
      modelId: s.modelId,
      at: s.speed!.at,
      patchesPerSecond: s.speed!.patchesPerSecond * (s.input ? imagesPerTile(s.input) : 1),
    }))
    .sort((a, b) => b.at.localeCompare(a.at));
  const own = runs.find((r) => r.modelId === model.id);
  const other = runs.map((r) => ({ r, m: models.find((m) => m.id === r.modelId) })).find((x) => x.m !== undefined);
  if (own) Object.assign(out, { patchesPerSecond: own.patchesPerSecond, rateFrom: 'measured' });
  else if (other)
    Object.assign(out, {
      patchesPerSecond: (other.r.patchesPerSecond * flopsPerPatch(other.m!)) / flopsPerPatch(model),
      rateFrom: 'scaled',
      rateModel: other.m!.id,
    });
  else out.patchesPerSecond = estimatedRate(model, device);
  // patchesPerSecond so far counts single passes; this run's patches cost passes / patches of them each.
  const perPatch = out.patches > 0 ? passes / out.patches : passesPerPatch;
  out.patchesPerSecond /= perPatch;
  if (perPatch !== 1) out.passesPerPatch = perPatch;
  out.seconds = out.patches / out.patchesPerSecond;
  return out;
}

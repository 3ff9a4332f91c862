// Extraction over a project's collection: for each readable image, the working resolution, the tissue
// mask, the image's feature store under cache/features/<set>/, then its tissue patches into the set's
// search index; the feature set is recorded in project.json (features[]). One context for the whole run
// (context.ts): one forward pass per image when every image fits ('auto'), else tiles for all. Progress
// counts chunks over all images (a one-pass image finishes all its chunks at once); cancelling stops at
// the next batch or image and a rerun resumes. The device (device.ts): the probe's provider by default,
// batch GPU_BATCH on a GPU provider; the provider that ran is in the log, the summary and each store.
// The foreground mask (o.mask, core/data/foreground-mode.ts) decides which patches are indexed: each
// image's resolved mask and the share of its patches kept are in the summary and project.json, and an
// image whose share is under LOW_FOREGROUND_SHARE gets a log line suggesting the mask off.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ExtractImageSummary, ExtractOptions, ExtractSummary, ImageMetadata } from '../../common/api.js';
import { extractOptions } from '../../common/api-schema.js';
import { DinoscopeError, FieldError } from '../../common/errors.js';
import { LOW_FOREGROUND_SHARE, type MaskSetting } from '../../common/foreground-mask.js';
import { resolutionLines } from '../../data/resolution-log.js';
import { mppSource } from '../../data/resolution.js';
import type { ImageReader } from '../../data/reader.js';
import { openImage } from '../../data/readers/registry.js';
import type { ModelManager } from '../../model/manager/manager.js';
import { readAttachedDinoTxt } from '../../model/text/attached.js';
import { readablePath } from '../../project/importer.js';
import { imageMeta, type Project } from '../../project/project.js';
import type { StoredFeatureImage, StoredFeatureSet } from '../../project/schema.js';
import { renderThumbnail } from '../../data/thumbnail.js';
import { openFeatureStore } from '../store/reader.js';
import { chooseContext, DEFAULT_ONE_PASS, type OnePassBudget } from './context.js';
import { checkDevice, chooseDevice, GPU_BATCH } from './device.js';
import { extractImage } from './image.js';
import { imageForeground } from './foreground.js';
import { isLocked, tryImageLock, type ImageLockOptions } from './image-lock.js';
import { indexImage, openOrCreateIndex } from './index-update.js';
import { channelChoiceRefusal, type FeatureInput, type FeatureRoute, featureDim, featureInput, PixelSource, routeFor } from './input.js';
import { TileModelCache } from './model-cache.js';
import type { TileModel } from './model.js';
import { collectionRequest, workingResolution, type WorkingResolution } from './resolution.js';
import { tileSide, type TileLayout } from './tiling.js';
import { dilate, patchMask } from './tissue.js';

/** Default tiling: cores of 16 × 16 patches with 2 patches of context each side (20 × 20 patch tiles). */
export const DEFAULT_CORE = 16;
export const DEFAULT_MARGIN = 2;
export const DEFAULT_BATCH = 8;
/** How long to wait before trying again when every image left is being extracted by another process. */
const LOCKED_POLL_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ExtractHooks {
  signal?: AbortSignal;
  /** Tiles done of total, with a line for a person (patches/s, ETA). */
  progress?(done: number, total: number, message: string): void;
  log?(line: string): void;
  /** onnxruntime intra-op threads (default: its own choice). */
  threads?: number;
  /** Tiling overrides (tests, benchmarks). */
  core?: number;
  margin?: number;
  /** One-pass budget overrides (default DEFAULT_ONE_PASS: 1 GiB of attention, 64 patches a side). */
  onePass?: Partial<OnePassBudget>;
  /** Add each image to the set's search index (default true). Shards skip it; `dinoscope index` builds it
   * once afterwards (index-build.ts). */
  index?: boolean;
  /** The images whose grids an 'auto' context is chosen over (default: this run's). Shards pass the
   * whole collection, so every shard chooses as one run over all images would. */
  contextImageIds?: string[];
  /** Per-image lock timing (image-lock.ts; tests). */
  imageLock?: ImageLockOptions;
}

/** Validates API/CLI options (they may come from JSON) against their schema (core/common/api-schema.ts):
 * FieldError naming the field; the result is a new, frozen object. */
export function checkExtractOptions(o: ExtractOptions): ExtractOptions {
  return extractOptions.parse(o);
}

/** The feature set's id: model, resolution and a mask other than 'auto', file-name safe. Another mask
 * indexes other patches (and, tiled, computes other tiles), so it is another set, not a resume. */
export function featureSetId(modelId: string, o: { mpp?: number; level?: number; mask?: MaskSetting }): string {
  const res = o.mpp !== undefined ? `${String(o.mpp).replace('.', 'p')}um` : `level${o.level ?? 0}`;
  const mask = o.mask === undefined || o.mask === 'auto' ? '' : `-mask-${o.mask}`;
  return `${modelId}-${res}${mask}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A route in words, for the log. */
function describeInput(i: FeatureInput): string {
  if (i.route === 'rgb') return 'RGB';
  const names = (i.channels ?? []).join(', ');
  return i.route === 'channels'
    ? `${i.channels?.length ?? 0} channels (${names}) through the model's own ${i.channels?.length ?? 0}-channel input`
    : `${i.channels?.length ?? 0} channels (${names}), each as grey through the RGB model, features concatenated`;
}

/**
 * A completed run (inside project.update): records its speed on the set, and makes the set active when
 * asked to, or when no set is active and the caller did not say no. Projects older than the choice get
 * their active set pinned, so later runs never change it.
 */
function completeRun(
  p: Project,
  setId: string,
  configHash: string,
  activate: boolean | undefined,
  speed: StoredFeatureSet['speed'] | null,
): void {
  const set = p.featureSets().find((x) => x.id === setId && x.modelConfigHash === configHash);
  if (set && speed) p.upsertFeatureSet({ ...set, speed });
  const active = p.activeFeatureSet();
  if (activate === true || (activate === undefined && !active)) p.setActiveFeatureSet(setId);
  else if (active && !p.activeFeatureSetChosen) p.setActiveFeatureSet(active.id);
}

export async function extractFeatures(
  project: Project,
  models: ModelManager,
  options: ExtractOptions,
  hooks: ExtractHooks = {},
): Promise<ExtractSummary> {
  const o = checkExtractOptions(options);
  const log = hooks.log ?? ((): void => {});
  const loaded = await models.load(o.modelId);
  const cfg = loaded.config;
  // A dino.txt text tower attached to the model: the features are its vision head's patch embeddings.
  const text = await readAttachedDinoTxt(loaded.model.path);
  const modelDim = text ? text.config.embedDim / 2 : cfg.dim; // per model image
  const hash = createHash('sha256')
    .update(JSON.stringify(cfg))
    .update(loaded.model.sha256 || `${loaded.model.path}:${loaded.model.bytes}`);
  if (text) hash.update(`dinotxt ${text.source} ${text.attached}`);
  const configHash = hash.digest('hex').slice(0, 16);
  const layout: TileLayout = { patch: cfg.patchSize, core: hooks.core ?? DEFAULT_CORE, margin: hooks.margin ?? DEFAULT_MARGIN };
  const wanted = o.imageIds ? o.imageIds.map((id) => project.requireImage(id)) : project.images().filter((i) => i.status === 'ok');
  const readable = wanted.filter((i) => i.status === 'ok' && i.meta);
  if (o.channels !== undefined) {
    const refusal = channelChoiceRefusal(o.channels, o.modelId, cfg.inChans);
    if (refusal) throw new FieldError('channels', refusal);
    if (!readable.some((i) => imageMeta(i)?.channels?.length))
      throw new FieldError('channels', 'a channel route applies to multi-channel images, and none of the images to extract has channels.');
  }
  // The metadata with each image's stated µm per pixel where its file states none (core/data/resolution.ts).
  const metaOf = (img: (typeof readable)[number]): ImageMetadata => imageMeta(img)!;
  for (const i of wanted) if (!readable.includes(i)) log(`${i.path}: skipped (${i.reason ?? i.status}).`);
  // One route (input.ts) for the whole set: the set's own when it exists, else the first image's; images
  // that do not fit it are skipped with the reason, so the set keeps one dim and one meaning.
  const setId = featureSetId(o.modelId, o);
  const priorInput = project.featureSets().find((s) => s.id === setId)?.input;
  let runInput: FeatureInput | null = priorInput ?? null;
  const images = readable.filter((img) => {
    const meta = metaOf(img);
    const route = routeFor(cfg, meta);
    if (typeof route !== 'string') {
      log(`${img.path}: skipped (${route.refused}).`);
      return false;
    }
    runInput ??= featureInput(route, meta.channels);
    const here = featureInput(route, meta.channels);
    if (here.route !== runInput.route || JSON.stringify(here.channels ?? null) !== JSON.stringify(runInput.channels ?? null)) {
      log(
        `${img.path}: skipped (${describeInput(here)}, but this feature set is ${describeInput(runInput)}; extract it with another model or resolution).`,
      );
      return false;
    }
    return true;
  });
  if (images.length === 0) throw new DinoscopeError('BAD_INPUT', `${project.dir}: no readable images to extract features from.`);
  const req = collectionRequest(
    o,
    project.images().map((i) => (i.status === 'ok' ? imageMeta(i)?.mpp : null)),
  );
  // Resolutions first (from the stored metadata), so progress knows every image's tile count.
  const plans: { img: (typeof images)[number]; res: WorkingResolution; tiles: number }[] = images.map((img) => {
    const res = workingResolution(metaOf(img), req, cfg.patchSize, img.path);
    return { img, res, tiles: Math.ceil(res.gridWidth / layout.core) * Math.ceil(res.gridHeight / layout.core) };
  });
  const total = plans.reduce((s, p) => s + p.tiles, 0);
  const budget: OnePassBudget = { ...DEFAULT_ONE_PASS, ...hooks.onePass };
  const input: FeatureInput = runInput ?? { route: 'rgb' };
  const route: FeatureRoute = input.route;
  const dim = featureDim(input, modelDim);
  if (route !== 'rgb') log(`input: ${describeInput(input)}; ${dim} features per patch.`);
  const maskSetting: MaskSetting = o.mask ?? 'auto';
  const setDir = join(project.cacheDir, 'features', setId);
  const prior = project.featureSets().find((s) => s.id === setId && s.modelConfigHash === configHash);
  // The context of the set's images this run leaves alone ('auto' keeps a set in one context). Images
  // without a recorded context were tiled: the only context before it was recorded.
  const contextPlans = hooks.contextImageIds
    ? hooks.contextImageIds
        .map((id) => project.requireImage(id))
        .filter((i) => i.status === 'ok' && i.meta)
        .map((img) => ({ img, res: workingResolution(metaOf(img), req, cfg.patchSize, img.path) }))
    : plans;
  const running = new Set(contextPlans.map((p) => p.img.id));
  const kept = new Set((prior?.images ?? []).filter((x) => !running.has(x.imageId)).map((x) => x.context ?? 'tiled'));
  const priorContext = kept.size === 0 ? undefined : kept.size === 1 ? [...kept][0] : 'mixed';
  const { context, reason } = chooseContext(
    o.context ?? 'auto',
    cfg,
    contextPlans.map((p) => ({ file: p.img.path, gridWidth: p.res.gridWidth, gridHeight: p.res.gridHeight })),
    budget,
    priorContext,
  );
  log(`context: ${reason}.`);
  const now = new Date().toISOString();
  const set: StoredFeatureSet = prior
    ? { ...prior, images: [...prior.images], updatedAt: now }
    : {
        id: setId,
        modelId: o.modelId,
        modelConfigHash: configHash,
        mpp: o.mpp ?? null,
        level: o.mpp === undefined ? (o.level ?? 0) : null,
        dim,
        ...(text ? { textAligned: true, textAttached: text.attached } : {}),
        ...(route !== 'rgb' ? { input } : {}),
        dir: relative(project.dir, setDir),
        images: [],
        mask: maskSetting,
        createdAt: now,
        updatedAt: now,
      };
  // Each image's entry goes into the set as project.json holds it now (another process may have added
  // images to the same set meanwhile), not into a copy read when this run started.
  const record = async (e: StoredFeatureImage): Promise<void> => {
    await project.update((p) => {
      const current = p.featureSets().find((x) => x.id === setId && x.modelConfigHash === configHash) ?? set;
      const images = current.images.some((x) => x.imageId === e.imageId)
        ? current.images.map((x) => (x.imageId === e.imageId ? e : x))
        : [...current.images, e];
      const contexts = new Set(images.map((x) => x.context ?? 'tiled'));
      p.upsertFeatureSet({ ...current, images, updatedAt: new Date().toISOString(), context: contexts.size > 1 ? 'mixed' : context });
    });
  };

  const warnings: string[] = [];
  const warn = (line: string): void => {
    warnings.push(line);
    log(line);
  };
  const uses = plans.map(({ img, res }) => ({
    path: img.path,
    source: mppSource(img.meta!, img.statedMpp),
    mpp: metaOf(img).mpp,
    level: res.level,
  }));
  for (const line of resolutionLines(uses, o.mpp, 'extracted')) (line.warning ? warn : log)(line.text);
  const device = await chooseDevice(checkDevice(o.device));
  (device.fellBack ? warn : log)(device.line);
  // The raw reason behind the warning, for a bug report (DINOSCOPE_DEBUG=1, as the CLI's stack traces).
  if (device.detail && process.env.DINOSCOPE_DEBUG) log(`device details: ${device.detail}`);
  // Tiles: one model of batch B; one pass: on the CPU one model for every image size (batch 1), on a GPU a model
  // per image size, equal sizes compiled once.
  // A provider that fails to open after all falls back to cpu inside Session.create: its warning goes here.
  const tileModels = new TileModelCache(cfg, loaded.tensors, undefined, {
    providers: device.providers,
    warn: (m) => warn(`warning: ${m}.`),
    head: text ? { config: text.config, values: text.tensors } : undefined,
  });
  if (text) log(`dino.txt: storing the vision head's ${modelDim}-wide patch embeddings; text queries can search this set.`);
  const patch = cfg.patchSize;
  const batch = o.batch ?? (device.providers[0] === 'cpu' ? DEFAULT_BATCH : GPU_BATCH);
  let provider: string = device.providers[0];
  const modelFor = async (res: WorkingResolution): Promise<TileModel> => {
    const m = await (context === 'whole'
      ? tileModels.get({
          batch: 1,
          height: res.gridHeight * patch,
          width: res.gridWidth * patch,
          outputs: ['patches'],
          threads: hooks.threads,
          anySize: true,
        })
      : tileModels.get({
          batch: batch * featureDim(input, 1),
          height: tileSide(layout),
          width: tileSide(layout),
          outputs: ['patches'],
          threads: hooks.threads,
        })); // per-channel: C images per tile
    provider = m.provider;
    return m;
  };
  const t0 = performance.now();
  const summaries: ExtractImageSummary[] = [];
  let before = 0;
  let patchesAll = 0;
  try {
    const index = hooks.index === false ? null : await openOrCreateIndex(join(setDir, 'index'), dim);
    await mkdir(setDir, { recursive: true });
    // One writer per image store (other shards may extract this set at once): an image locked by a live
    // process goes to the back of the queue; when only locked images are left, wait and retry.
    const queue = [...plans];
    const toldLocked = new Set<string>();
    let lockedInARow = 0;
    while (queue.length) {
      const { img, res, tiles } = queue.shift()!;
      const lock = await tryImageLock(join(setDir, `${img.id}.zarr.lock`), hooks.imageLock, log);
      if (isLocked(lock)) {
        if (!toldLocked.has(img.id)) log(`${img.path}: being extracted by ${lock.by}; coming back to it later.`);
        toldLocked.add(img.id);
        queue.push({ img, res, tiles });
        if (++lockedInARow >= queue.length) {
          if (hooks.signal?.aborted)
            throw new DinoscopeError('CANCELLED', 'Extraction cancelled while waiting for images other processes are extracting.');
          await sleep(LOCKED_POLL_MS);
          lockedInARow = 0;
        }
        continue;
      }
      lockedInARow = 0;
      let reader: ImageReader | null = null;
      try {
        reader = await openImage(readablePath(project, img));
        const thumb = await readFile(project.thumbnailPath(img.id)).catch(() => renderThumbnail(reader!));
        const { used: maskUsed, mask, hasTissue } = await imageForeground(project, img.id, maskSetting, thumb, route !== 'rgb');
        if (maskSetting === 'auto') log(`${img.path}: foreground mask auto: ${maskUsed}.`);
        if (mask && !hasTissue) log(`${img.path}: no foreground found on the thumbnail (${maskUsed} mask); extracting every tile.`);
        const tissue =
          mask && hasTissue ? patchMask(mask, img.meta!.width, img.meta!.height, res.stride, res.gridWidth, res.gridHeight) : null;
        const compute =
          mask && hasTissue ? patchMask(dilate(mask), img.meta!.width, img.meta!.height, res.stride, res.gridWidth, res.gridHeight) : null;
        const storeDir = join(setDir, `${img.id}.zarr`);
        const r = await extractImage({
          reader,
          pixels: await PixelSource.open(reader, res, route),
          storeDir,
          model: await modelFor(res),
          context,
          modelId: o.modelId,
          modelConfigHash: configHash,
          res,
          layout,
          tissue,
          compute,
          signal: hooks.signal,
          onProgress: (p) => {
            const done = before + p.tilesDone;
            const secs = (performance.now() - t0) / 1000;
            const rate = (patchesAll + p.patches) / Math.max(secs, 1e-3);
            const what = context === 'whole' ? `one pass, ${p.tilesDone}/${p.tilesTotal} chunks` : `tile ${p.tilesDone}/${p.tilesTotal}`;
            hooks.progress?.(done, total, `${img.name}: ${what}, ${rate.toFixed(0)} patches/s on ${provider}`);
          },
        });
        const tissuePatches = tissue ? tissue.reduce((s, v) => s + v, 0) : res.gridWidth * res.gridHeight;
        const entry: StoredFeatureImage = {
          imageId: img.id,
          store: relative(project.dir, storeDir),
          gridWidth: res.gridWidth,
          gridHeight: res.gridHeight,
          complete: true,
          indexedRows: 0,
          tissuePatches,
          context,
          mask: maskUsed,
        };
        await record(entry);
        const indexedRows = index ? await indexImage(index, img.id, await openFeatureStore(storeDir), tissue) : 0;
        if (index) await record({ ...entry, indexedRows });
        const foregroundShare = tissuePatches / (res.gridWidth * res.gridHeight);
        if (foregroundShare < LOW_FOREGROUND_SHARE)
          log(
            `${img.path}: the ${maskUsed} mask keeps ${(100 * foregroundShare).toFixed(0)} % of its patches for search and clusters; if tissue is missed, extract with --mask off (every patch)${maskUsed === 'brightfield' ? ' or --mask fluorescence' : ''}.`,
          );
        summaries.push({
          imageId: img.id,
          name: img.name,
          gridWidth: r.gridWidth,
          gridHeight: r.gridHeight,
          computed: r.computed,
          background: r.background,
          resumed: r.resumed,
          patches: r.patches,
          seconds: r.seconds,
          indexedRows,
          mask: maskUsed,
          foregroundShare,
          context,
          ...(res.mppFallback ? { fallbackLevel: res.level } : {}),
        });
        patchesAll += r.patches;
        const how =
          context === 'whole' ? `one pass, ${r.computed} chunks written` : `${r.computed} tiles computed, ${r.background} background`;
        log(
          `${img.path}: ${r.gridWidth} × ${r.gridHeight} patches, ${how}, ${r.resumed} already done (${r.seconds.toFixed(1)} s on ${provider}).`,
        );
      } catch (e) {
        if (e instanceof DinoscopeError && e.code === 'CANCELLED') {
          await record({
            imageId: img.id,
            store: relative(project.dir, join(setDir, `${img.id}.zarr`)),
            gridWidth: res.gridWidth,
            gridHeight: res.gridHeight,
            complete: false,
            indexedRows: 0,
            tissuePatches: 0,
            context,
          });
          log(`${img.path}: cancelled; rerun to resume.`);
        }
        throw e;
      } finally {
        await reader?.close();
        await lock.release();
      }
      before += tiles;
    }
  } finally {
    await tileModels.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  await project.update((p) =>
    completeRun(
      p,
      setId,
      configHash,
      o.activate,
      patchesAll > 0 ? { provider, patchesPerSecond: patchesAll / Math.max(seconds, 1e-9), at: new Date().toISOString() } : null,
    ),
  );
  return {
    featureSet: setId,
    modelId: o.modelId,
    dir: setDir,
    images: summaries,
    context,
    mask: maskSetting,
    provider,
    warnings,
    patches: patchesAll,
    seconds,
    patchesPerSecond: patchesAll / Math.max(seconds, 1e-9),
  };
}

// Dense extraction over one image into its feature store, chunk by chunk (T × T patches each), in one of
// two contexts (context.ts):
// - 'tiled': each chunk is one model tile with context margins (tiling.ts), batched through the model;
//   background chunks (no tissue on the thumbnail's mask) are marked empty without running the model.
//   While the model runs a batch, the next batch is read.
// - 'whole': one forward pass over the image's whole patch grid (batch 1, gridHeight·p × gridWidth·p
//   working pixels) and every pending chunk is cut from its output: exact global-context features. There
//   is nothing to skip (the pass covers the background too); the tissue mask is still stored.
// Resumable: an existing store with the same model, grid and context is reopened and only its pending
// chunks are written; a store made with another context or tile layout is started afresh.
import { rm } from 'node:fs/promises';
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader } from '../../data/reader.js';
import type { StoreManifest, StoreManifestInput } from '../store/manifest.js';
import { createFeatureStore, readManifest, resumeFeatureStore, type FeatureStoreWriter } from '../store/writer.js';
import { combineImages, featureDim, PixelSource, sameInput } from './input.js';
import type { TileModel } from './model.js';
import type { WorkingResolution } from './resolution.js';
import type { ExtractContext } from './context.js';
import { coreFeatures, cropPatches, tileInputRect, tilePatches, tileWindow, type TileLayout } from './tiling.js';
import { anySet } from './tissue.js';

export interface ImageProgress {
  /** Chunks finished (computed and committed, background, or done before a resume) of all chunks: what a crash
   * now would not lose. */
  tilesDone: number;
  tilesTotal: number;
  /** Patches computed in this run. */
  patches: number;
}

export interface ImageExtractOptions {
  reader: ImageReader;
  /** How pixels become model input (input.ts); absent: RGB through readRegion. */
  pixels?: PixelSource;
  storeDir: string;
  /** 'tiled' (default): a model of batch B and side tileSide(layout); 'whole': batch 1, gridHeight·p × gridWidth·p. */
  model: TileModel;
  context?: ExtractContext;
  modelId: string;
  modelConfigHash: string;
  res: WorkingResolution;
  /** Chunking (core = chunk side) and, for 'tiled', the windows. */
  layout: TileLayout;
  /** (gridHeight, gridWidth) tissue mask stored with the features, null = everything is tissue. */
  tissue: Uint8Array | null;
  /** (gridHeight, gridWidth) cells whose chunks are computed (the dilated mask), null = all. */
  compute: Uint8Array | null;
  signal?: AbortSignal;
  onProgress?(p: ImageProgress): void;
}

export interface ImageExtractResult {
  storeDir: string;
  gridWidth: number;
  gridHeight: number;
  tiles: number;
  /** Chunks computed by the model in this run, marked background in this run, and found done. */
  computed: number;
  background: number;
  resumed: number;
  patches: number;
  seconds: number;
}

const sameGrid = (a: StoreManifest, b: StoreManifestInput): boolean =>
  a.modelId === b.modelId &&
  a.modelConfigHash === b.modelConfigHash &&
  a.level === b.level &&
  a.stride === b.stride &&
  a.gridWidth === b.gridWidth &&
  a.gridHeight === b.gridHeight &&
  a.dim === b.dim &&
  a.chunk.width === b.chunk.width &&
  a.chunk.height === b.chunk.height &&
  a.context === b.context &&
  a.tiling?.core === b.tiling?.core &&
  a.tiling?.margin === b.tiling?.margin &&
  sameInput(a.input, b.input);

/** Reopen the store in `dir` when it was made for the same model and grid; else start it afresh. */
export async function openOrCreateStore(
  dir: string,
  input: StoreManifestInput,
  mask: Uint8Array | null,
): Promise<{ writer: FeatureStoreWriter; resumed: boolean }> {
  let existing: StoreManifest | null = null;
  try {
    existing = await readManifest(dir);
  } catch {
    existing = null; // none yet, or unreadable: start afresh
  }
  if (existing && sameGrid(existing, input)) return { writer: await resumeFeatureStore(dir), resumed: true };
  await rm(dir, { recursive: true, force: true });
  return { writer: await createFeatureStore(dir, input, mask ?? undefined), resumed: false };
}

const cancelled = (signal?: AbortSignal): void => {
  if (signal?.aborted) throw new DinoscopeError('CANCELLED', 'Feature extraction was cancelled.');
};

export async function extractImage(o: ImageExtractOptions): Promise<ImageExtractResult> {
  const t0 = performance.now();
  const { res, layout, model } = o;
  const context = o.context ?? 'tiled';
  const pixels = o.pixels ?? (await PixelSource.open(o.reader, res, 'rgb'));
  const k = pixels.images; // model images per tile: C on the per-channel route, else 1
  const D = model.featureDim; // per model image: the backbone's width, or the dino.txt head's
  const dim = featureDim(pixels.input, D);
  const inC = model.config.inChans;
  const p = model.config.patchSize;
  if (context === 'whole' && (model.options.batch !== 1 || model.height !== res.gridHeight * p || model.width !== res.gridWidth * p))
    throw new Error(
      `extract: a one-pass model must take 1 × ${res.gridHeight * p} × ${res.gridWidth * p} px, not ${model.options.batch} × ${model.height} × ${model.width}`,
    );
  if (context === 'tiled' && model.options.batch % k)
    throw new Error(`extract: a tile model for ${k} images per tile must take a multiple of ${k}, not ${model.options.batch}`);
  if (context === 'tiled' && (model.height !== tilePatches(layout) * p || model.width !== model.height))
    throw new Error(`extract: a tile model must take ${tilePatches(layout) * p} px squares, not ${model.height} × ${model.width}`);
  const input: StoreManifestInput = {
    modelId: o.modelId,
    modelConfigHash: o.modelConfigHash,
    level: res.level,
    mpp: o.reader.meta.mpp,
    stride: res.stride,
    origin: { x: 0, y: 0 },
    gridWidth: res.gridWidth,
    gridHeight: res.gridHeight,
    dim,
    chunk: { width: layout.core, height: layout.core },
    context,
    ...(context === 'tiled' ? { tiling: { core: layout.core, margin: layout.margin } } : {}),
    ...(pixels.input.route !== 'rgb' ? { input: pixels.input } : {}),
  };
  const { writer } = await openOrCreateStore(o.storeDir, input, o.tissue);
  const total = writer.ny * writer.nx;
  const pending = writer.pending();
  const resumed = total - pending.length;
  const work: [number, number][] = [];
  const empty: [number, number][] = [];
  for (const [cy, cx] of pending)
    (context === 'whole' || o.compute === null || anySet(o.compute, res.gridWidth, writer.chunkRect(cy, cx)) ? work : empty).push([cy, cx]);
  await writer.markEmptyMany(empty);
  if (work.length) await writer.addProvider(model.provider); // the manifest names who computed its chunks
  // Progress counts the chunks a crash cannot lose: done before, background, and written and committed since.
  const durable = (): number => resumed + empty.length + writer.committedChunks;
  let patches = 0;
  o.onProgress?.({ tilesDone: durable(), tilesTotal: total, patches });

  const result = (): ImageExtractResult => ({
    storeDir: o.storeDir,
    gridWidth: res.gridWidth,
    gridHeight: res.gridHeight,
    tiles: total,
    computed: work.length,
    background: empty.length,
    resumed,
    patches,
    seconds: (performance.now() - t0) / 1000,
  });

  if (context === 'whole') {
    if (work.length === 0) return result();
    cancelled(o.signal);
    const [H, W] = [model.height, model.width];
    const all = new Float32Array(k * inC * H * W); // (k, C, H, W): one image, or one per channel
    await pixels.readInto(0, 0, W, H, all, 0);
    const per: Float32Array[] = [];
    for (let c = 0; c < k; c++) per.push((await model.run(all.subarray(c * inC * H * W, (c + 1) * inC * H * W))).patches); // (1, N, D) each
    const N = res.gridWidth * res.gridHeight;
    const joined = k === 1 ? per[0] : new Float32Array(k * N * D);
    if (k > 1) per.forEach((t, c) => joined.set(t, c * N * D));
    const tokens = combineImages(joined, 1, k, N, D); // (1, gridHeight · gridWidth, k·D), row-major over the grid
    if (tokens.length !== res.gridWidth * res.gridHeight * dim)
      throw new Error(`extract: the model returned ${tokens.length} patch values, expected ${res.gridHeight} × ${res.gridWidth} × ${dim}`);
    for (const [cy, cx] of work) {
      const r = writer.chunkRect(cy, cx);
      await writer.writeChunk(cy, cx, cropPatches(tokens, 0, res.gridWidth, dim, r.x, r.y, r.width, r.height));
      patches += r.width * r.height;
    }
    await writer.commit();
    o.onProgress?.({ tilesDone: total, tilesTotal: total, patches });
    return result();
  }

  const B = model.options.batch / k; // tiles per model run
  const S = model.width;
  // Reads the tiles of work[i, i + B) into a fresh (B·k, C, S, S) buffer (slots past the end stay 0).
  const readBatch = async (i: number): Promise<Float32Array> => {
    const buf = new Float32Array(B * k * inC * S * S); // (B·k, C, S, S)
    const cells = work.slice(i, i + B);
    await Promise.all(
      cells.map(async ([cy, cx], b) => {
        const r = tileInputRect(layout, tileWindow(layout, cy, cx, res.gridWidth, res.gridHeight));
        await pixels.readInto(r.x, r.y, r.side, r.side, buf, b * k);
      }),
    );
    return buf;
  };
  let next: Promise<Float32Array> | null = work.length ? readBatch(0) : null;
  try {
    for (let i = 0; i < work.length; i += B) {
      cancelled(o.signal);
      const images = await next!;
      next = i + B < work.length ? readBatch(i + B) : null;
      const cells = work.slice(i, i + B);
      const n = cells.length; // B, or fewer for the image's last tiles (run at their own cost on the CPU)
      const out = await model.run(images, n * k);
      const tokens = combineImages(out.patches, n, k, tilePatches(layout) ** 2, D); // (n·k, P², D) → (n, P², k·D)
      if (tokens.length !== n * tilePatches(layout) ** 2 * dim)
        throw new Error(`extract: the model returned ${tokens.length} patch values, expected ${n} × ${tilePatches(layout) ** 2} × ${dim}`);
      for (let b = 0; b < cells.length; b++) {
        const [cy, cx] = cells[b];
        const r = writer.chunkRect(cy, cx);
        await writer.writeChunk(
          cy,
          cx,
          coreFeatures(layout, tokens, b, dim, r.width, r.height, tileWindow(layout, cy, cx, res.gridWidth, res.gridHeight)),
        );
        patches += r.width * r.height;
      }
      // One commit a batch: its chunk files fsynced together, then progress.json, so what progress reports is safe.
      await writer.commit();
      o.onProgress?.({ tilesDone: durable(), tilesTotal: total, patches });
    }
  } catch (e) {
    // The chunks written so far become durable and recorded, cancelled or failed, so a resume skips them; the
    // first error is the one to report.
    await writer.commit().catch(() => undefined);
    throw e;
  } finally {
    // A read started for a batch that will never run must not surface as an unhandled rejection.
    next?.catch(() => {});
  }
  return result();
}

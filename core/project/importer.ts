// Import: expand the named paths, open each file with the reader registry, record it in the project with
// its metadata and a thumbnail. Failures stay in the collection as 'unsupported' or 'corrupt' with the
// reason; nothing else is affected. Images that need a tiled pyramid cache are 'caching' while it builds
// as a background job, then 'ok'.
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import type { ImageMetadata, ImageStatus, ImportReport } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { ImageReader } from '../data/reader.js';
import { describeFsError } from '../io/fs-errors.js';
import type { Job, JobRegistry } from '../jobs/registry.js';
import { imageIdFor } from './image-id.js';
import { toEntry, type Project } from './project.js';
import type { StoredImage } from './schema.js';
import { writeThumbnail } from '../data/thumbnail.js';
import { expandPaths } from './walk.js';

/** What import needs from the image layer (core/data), passed in by the app service. */
export interface ImageFormats {
  openImage(path: string): Promise<ImageReader>;
  needsPyramidCache(meta: ImageMetadata): boolean;
  /** Builds the cache for `src` under `cacheDir` and resolves to the cache file's path. */
  buildPyramidCache(
    src: string,
    cacheDir: string,
    options: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal },
  ): Promise<string>;
}

export interface ImportContext {
  project: Project;
  formats: ImageFormats;
  jobs: JobRegistry;
  /** Called after each change to the collection (already saved). */
  changed(): void;
}

export interface ImportOutcome {
  report: ImportReport;
  /** Settles when every pyramid cache this import started has finished (or failed). */
  background: Promise<void>;
}

/** Where the tile server reads an image from: its pyramid cache when it has one, else the source. */
export function readablePath(project: Project, img: StoredImage): string {
  if (!img.pyramidCache) return img.path;
  return isAbsolute(img.pyramidCache) ? img.pyramidCache : join(project.dir, img.pyramidCache);
}

function statusFor(err: unknown): { status: ImageStatus; reason: string } {
  const reason = describeFsError(err) ?? (err instanceof Error ? err.message : String(err));
  if (err instanceof DinoscopeError && (err.code === 'UNSUPPORTED' || err.code === 'TOO_LARGE')) return { status: 'unsupported', reason };
  return { status: 'corrupt', reason };
}

export async function importPaths(ctx: ImportContext, paths: readonly string[]): Promise<ImportOutcome> {
  const report: ImportReport = { added: [], skipped: [], failed: [] };
  const background: Promise<void>[] = [];
  await ctx.jobs.run('import', `Importing ${paths.length === 1 ? basename(paths[0]) : `${paths.length} items`}`, 0, async (job) => {
    const { files, missing } = await expandPaths(paths, job.signal);
    report.failed.push(...missing);
    job.progress(0, files.length);
    for (const [i, file] of files.entries()) {
      job.throwIfCancelled();
      const id = imageIdFor(file);
      const existing = ctx.project.image(id);
      if (existing && existing.status !== 'missing') {
        report.skipped.push(file);
      } else {
        const img = await importOne(ctx, file, id);
        if (img.status === 'unsupported' || img.status === 'corrupt')
          report.failed.push({ path: file, reason: img.reason ?? 'unreadable' });
        for (const warning of img.meta?.warnings ?? []) (report.warnings ??= []).push({ path: file, warning });
        report.added.push(toEntry(img));
        await ctx.project.update((p) => p.upsert(img));
        if (img.status === 'caching') background.push(buildCache(ctx, img));
        ctx.changed();
      }
      job.progress(i + 1, files.length, basename(file));
    }
  });
  return { report, background: Promise.all(background).then(() => undefined) };
}

async function importOne(ctx: ImportContext, file: string, id: string): Promise<StoredImage> {
  const img: StoredImage = { id, path: file, name: basename(file), bytes: 0, mtime: 0, status: 'ok', addedAt: new Date().toISOString() };
  let reader: ImageReader | undefined;
  try {
    // Inside the try: a file that vanished or cannot be read since the walk fails alone, not the import.
    const s = await stat(file);
    img.bytes = s.size;
    img.mtime = s.mtimeMs;
    reader = await ctx.formats.openImage(file);
    img.meta = reader.meta;
    if (ctx.formats.needsPyramidCache(reader.meta)) {
      img.status = 'caching';
      img.reason = `Building a tiled pyramid cache for ${img.name}.`;
    } else {
      await writeThumbnail(reader, ctx.project.thumbnailPath(id));
    }
  } catch (err) {
    Object.assign(img, statusFor(err));
  } finally {
    await reader?.close().catch(() => undefined);
  }
  return img;
}

/** Restarts the pyramid caches of images left 'caching' (the app quit while building them). */
export function resumeCaching(ctx: ImportContext): Promise<void> {
  const pending = ctx.project.images().filter((img) => img.status === 'caching');
  return Promise.all(pending.map((img) => buildCache(ctx, img))).then(() => undefined);
}

async function buildCache(ctx: ImportContext, source: StoredImage): Promise<void> {
  const { project } = ctx;
  const img: StoredImage = { ...source }; // the outcome, written into the image's fresh entry below
  try {
    await ctx.jobs.run('pyramid-cache', `Pyramid cache for ${img.name}`, 1, async (job: Job) => {
      const cache = await ctx.formats.buildPyramidCache(img.path, project.pyramidsDir, {
        onProgress: (done, total) => job.progress(done, total),
        signal: job.signal,
      });
      img.pyramidCache = relative(project.dir, cache);
      const reader = await ctx.formats.openImage(cache);
      try {
        await writeThumbnail(reader, project.thumbnailPath(img.id));
      } finally {
        await reader.close();
      }
      img.status = 'ok';
      delete img.reason;
    });
  } catch (err) {
    Object.assign(img, statusFor(err));
    img.reason = `The pyramid cache for ${img.path} could not be built: ${img.reason}`;
  }
  // Only the cache's fields: the image may have been removed (then nothing is written) or changed meanwhile.
  await project.update((p) => {
    const current = p.image(img.id);
    if (!current) return;
    const next: StoredImage = { ...current, status: img.status };
    if (img.pyramidCache !== undefined) next.pyramidCache = img.pyramidCache;
    if (img.reason !== undefined) next.reason = img.reason;
    else delete next.reason;
    p.upsert(next);
  });
  ctx.changed();
}

// A project is a folder: project.json (the collection, later models/runs/features) and cache/
// (thumbnails/, pyramids/, tissue-masks/, later models/, runs/, features/).
//
// project.json has more than one writer: the app, training children (run records), CLI commands. Every
// write goes through update(mutate): take the project lock (lock.ts: cross-process, queued in-process),
// re-read project.json, apply the mutation to that fresh document, write it atomically (temp + rename),
// release; this Project then holds the written document. So no writer saves a stale whole document over
// another's change. The mutators (upsert, remove, upsertFeatureSet, upsertRun) only work on the fresh
// document update() passes to `mutate`; called on any other Project they throw.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ImageEntry, ImageMetadata, ProjectSummary } from '../common/api.js';
import { isZarrFolder } from '../data/zarr/folder.js';
import { DinoscopeError } from '../common/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { withStatedMpp } from '../data/resolution.js';
import { featureSetInfo, resolveActiveSet, searchable } from './feature-sets.js';
import { type LockOptions, withFileLock } from './lock.js';
import { emptyProject, validateProject, type ProjectFile, type StoredFeatureSet, type StoredImage } from './schema.js';

export const PROJECT_FILE = 'project.json';

const serialize = (data: ProjectFile): string => JSON.stringify(data, null, 2) + '\n';

/** Reads and validates project.json; errors name the file (NOT_FOUND, CORRUPT, UNSUPPORTED). */
async function readProjectFile(file: string, dir: string): Promise<{ text: string; data: ProjectFile }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DinoscopeError('NOT_FOUND', `${file} does not exist: ${dir} is not a Dinoscope project.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DinoscopeError('CORRUPT', `${file}: not valid JSON (${(err as Error).message}).`);
  }
  return { text, data: validateProject(parsed, file) };
}

/** Whether an image's source is there: a file, or an OME-Zarr image's folder. */
const isPresent = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isFile() || (s.isDirectory() && isZarrFolder(path)),
    () => false,
  );

export class Project {
  /** True only on the fresh document update() hands to its mutation. */
  private editing = false;

  private constructor(
    readonly dir: string,
    private data: ProjectFile,
  ) {}

  get name(): string {
    return this.data.name;
  }
  get file(): string {
    return join(this.dir, PROJECT_FILE);
  }
  get cacheDir(): string {
    return join(this.dir, 'cache');
  }
  get thumbnailsDir(): string {
    return join(this.cacheDir, 'thumbnails');
  }
  get pyramidsDir(): string {
    return join(this.cacheDir, 'pyramids');
  }
  /** Tissue masks of the thumbnails, computed once (core/data/tissue-mask-cache.ts). */
  get tissueMasksDir(): string {
    return join(this.cacheDir, 'tissue-masks');
  }
  /** Where files uploaded through the serve host are stored. */
  get imagesDir(): string {
    return join(this.dir, 'images');
  }
  thumbnailPath(imageId: string): string {
    return join(this.thumbnailsDir, `${imageId}.jpg`);
  }
  tissueMaskPath(imageId: string): string {
    return join(this.tissueMasksDir, `${imageId}.mask`);
  }

  static async exists(dir: string): Promise<boolean> {
    try {
      return (await stat(join(resolve(dir), PROJECT_FILE))).isFile();
    } catch {
      return false;
    }
  }

  /** Creates a project in `dir` (made if missing). Refuses a folder that already holds a project. */
  static async create(dir: string, name?: string): Promise<Project> {
    const abs = resolve(dir);
    if (await Project.exists(abs))
      throw new DinoscopeError('BAD_INPUT', `${join(abs, PROJECT_FILE)} already exists: open it instead of creating a project there.`);
    try {
      const s = await stat(abs);
      if (!s.isDirectory()) throw new DinoscopeError('BAD_INPUT', `${abs} is a file, not a folder: a project is a folder.`);
    } catch (err) {
      if (err instanceof DinoscopeError) throw err;
    }
    const project = new Project(abs, emptyProject(name?.trim() || basename(abs)));
    await project.ensureFolders();
    await withFileLock(project.file, async () => {
      // Under the lock: a create racing another create (or a first update) cannot replace its file.
      if (await Project.exists(abs))
        throw new DinoscopeError('BAD_INPUT', `${project.file} already exists: open it instead of creating a project there.`);
      await writeFileAtomic(project.file, serialize(project.data));
    });
    return project;
  }

  static async open(dir: string): Promise<Project> {
    const abs = resolve(dir);
    const project = new Project(abs, (await readProjectFile(join(abs, PROJECT_FILE), abs)).data);
    await project.ensureFolders();
    return project;
  }

  async ensureFolders(): Promise<void> {
    await mkdir(this.thumbnailsDir, { recursive: true });
    await mkdir(this.pyramidsDir, { recursive: true });
  }

  /**
   * The one way to change project.json: under the project lock, re-reads it, runs `mutate` (synchronous,
   * small: upsert, remove, upsertFeatureSet, upsertRun on the Project it is given) on that fresh document,
   * writes it atomically when it changed, and adopts it as this Project's state. Returns what `mutate`
   * returns; when `mutate` throws nothing is written.
   */
  async update<T>(mutate: (fresh: Project) => T, lock?: LockOptions): Promise<T> {
    return withFileLock(
      this.file,
      async () => {
        const { text, data } = await readProjectFile(this.file, this.dir);
        const fresh = new Project(this.dir, data);
        fresh.editing = true;
        let result: T;
        try {
          result = mutate(fresh);
        } finally {
          fresh.editing = false;
        }
        if (result instanceof Promise)
          throw new DinoscopeError(
            'INTERNAL',
            `Project.update: the mutation of ${this.file} must be synchronous (it runs under the project lock).`,
          );
        const out = serialize(fresh.data);
        if (out !== text) await writeFileAtomic(this.file, out);
        this.data = fresh.data;
        return result;
      },
      lock,
    );
  }

  /** Re-reads project.json (others' writes, e.g. a training child's run records) into this Project. */
  async reload(): Promise<void> {
    this.data = await withFileLock(this.file, async () => (await readProjectFile(this.file, this.dir)).data);
  }

  private mutable(what: string): void {
    if (!this.editing)
      throw new DinoscopeError('INTERNAL', `Project.${what} called outside update() on ${this.file}: the change would not be saved.`);
  }

  images(): readonly StoredImage[] {
    return this.data.images;
  }

  image(id: string): StoredImage | undefined {
    return this.data.images.find((i) => i.id === id);
  }

  /** The image or a NOT_FOUND error naming the id. */
  requireImage(id: string): StoredImage {
    const img = this.image(id);
    if (!img) throw new DinoscopeError('NOT_FOUND', `Image ${id} is not in project ${this.dir}.`);
    return img;
  }

  /** Adds or replaces (by id) an image. */
  upsert(image: StoredImage): void {
    this.mutable('upsert');
    const i = this.data.images.findIndex((x) => x.id === image.id);
    if (i >= 0) this.data.images[i] = image;
    else this.data.images.push(image);
  }

  /**
   * States an image's µm per pixel (inside update()), or clears the statement with null. Refused (BAD_INPUT)
   * for an image whose file states its own (never overridden) and for one that was never read.
   */
  setStatedMpp(id: string, mpp: number | null): void {
    this.mutable('setStatedMpp');
    const img = this.requireImage(id);
    if (mpp !== null && !(mpp > 0 && Number.isFinite(mpp)))
      throw new DinoscopeError('BAD_INPUT', `The pixel size must be a positive number of µm per pixel, got ${mpp}.`);
    if (!img.meta)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${img.name} was never read (${img.reason ?? img.status}), so it has no pixels to size; import it again first.`,
      );
    if (img.meta.mpp)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${img.name}: the file states its own pixel size (${img.meta.mpp} µm/px), which Dinoscope keeps; a stated size is only for images whose file states none.`,
      );
    const next: StoredImage = { ...img };
    if (mpp === null) delete next.statedMpp;
    else next.statedMpp = mpp;
    this.upsert(next);
  }

  remove(id: string): StoredImage {
    this.mutable('remove');
    const img = this.requireImage(id);
    this.data.images = this.data.images.filter((x) => x.id !== id);
    return img;
  }

  /** Marks images whose source moved or vanished (or changed size) as 'missing', and missing ones that are
   * back as their former state, in project.json (through update()). Returns whether anything changed. */
  async checkSources(): Promise<boolean> {
    const present = new Map<string, boolean>();
    for (const img of this.data.images) present.set(img.id, await isPresent(img.path));
    const changes = (images: readonly StoredImage[]): StoredImage[] =>
      images.flatMap((img) => {
        const now = present.get(img.id);
        if (now === undefined) return []; // added after the check: not looked at
        if (!now && img.status !== 'missing')
          return [{ ...img, status: 'missing' as const, reason: `The source file ${img.path} was moved or deleted.` }];
        if (now && img.status === 'missing') {
          const back: StoredImage = { ...img, status: img.meta ? 'ok' : 'unsupported' };
          delete back.reason;
          if (!img.meta) back.reason = `${img.path} came back but was never read; import it again.`;
          return [back];
        }
        return [];
      });
    if (changes(this.data.images).length === 0) return false;
    return this.update((p) => {
      const changed = changes(p.data.images);
      for (const img of changed) p.upsert(img);
      return changed.length > 0;
    });
  }

  /** Extracted feature sets (core/features/extract). */
  featureSets(): readonly StoredFeatureSet[] {
    return this.data.features;
  }

  /** Adds or replaces (by id) a feature set (inside update()). */
  upsertFeatureSet(set: StoredFeatureSet): void {
    this.mutable('upsertFeatureSet');
    const i = this.data.features.findIndex((x) => x.id === set.id);
    if (i >= 0) this.data.features[i] = set;
    else this.data.features.push(set);
  }

  /** Removes a feature set's record (inside update()); its files are the caller's (core/features/sets.ts).
   * When it was the active set, no set is active afterwards. */
  removeFeatureSet(id: string): void {
    this.mutable('removeFeatureSet');
    this.data.features = this.data.features.filter((x) => x.id !== id);
    if (this.data.activeFeatureSet === id) this.data.activeFeatureSet = null;
  }

  /** The feature set the analyses use (feature-sets.ts says how it is chosen), or null. */
  activeFeatureSet(): StoredFeatureSet | null {
    return resolveActiveSet(this.data.features, this.data.activeFeatureSet);
  }

  /** Whether the active set was ever chosen (projects older than the choice have none recorded). */
  get activeFeatureSetChosen(): boolean {
    return this.data.activeFeatureSet !== undefined;
  }

  /** Makes a set the active one (inside update()). */
  setActiveFeatureSet(id: string): void {
    this.mutable('setActiveFeatureSet');
    this.data.activeFeatureSet = id;
  }

  /** Training runs (core/train/run.ts): plain records, each with a unique `name`. */
  runs(): readonly unknown[] {
    return this.data.runs;
  }

  /** Adds or replaces (by name) a training run record (inside update()). */
  upsertRun(run: { name: string }): void {
    this.mutable('upsertRun');
    const i = this.data.runs.findIndex((x) => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === run.name);
    if (i >= 0) this.data.runs[i] = run;
    else this.data.runs.push(run);
  }

  summary(): ProjectSummary {
    const active = this.activeFeatureSet();
    const withFeatures = new Set((active?.images ?? []).filter(searchable).map((i) => i.imageId));
    const images = this.data.images.map((img) => {
      const e = toEntry(img);
      if (withFeatures.has(img.id)) e.hasFeatures = true;
      return e;
    });
    const featureSets = [...this.data.features]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((s) => featureSetInfo(s, this.data.images, active?.id ?? null));
    const summary: ProjectSummary = { path: this.dir, name: this.data.name, images };
    if (featureSets.length) Object.assign(summary, { featureSets, activeFeatureSet: active?.id ?? null });
    return summary;
  }
}

/** The image's metadata as everything above the project reads it: the file's, with the user's stated µm per
 * pixel where the file states none (core/data/resolution.ts withStatedMpp). */
export function imageMeta(img: StoredImage): ImageMetadata | undefined {
  return img.meta && withStatedMpp(img.meta, img.statedMpp);
}

export function toEntry(img: StoredImage): ImageEntry {
  const e: ImageEntry = { id: img.id, path: img.path, name: img.name, status: img.status, bytes: img.bytes };
  if (img.reason !== undefined) e.reason = img.reason;
  const meta = imageMeta(img);
  if (meta !== undefined) e.meta = meta;
  if (img.statedMpp !== undefined && meta?.mpp === img.statedMpp) e.statedMpp = img.statedMpp;
  return e;
}

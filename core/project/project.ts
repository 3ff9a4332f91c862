// A project is a folder: project.json (the collection, later models/runs/features) and cache/
// (thumbnails/, pyramids/, later models/, runs/, features/). Writes are atomic.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ImageEntry, ProjectSummary } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { emptyProject, validateProject, type ProjectFile, type StoredFeatureSet, type StoredImage } from './schema.js';

export const PROJECT_FILE = 'project.json';

export class Project {
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
  /** Where files uploaded through the serve host are stored. */
  get imagesDir(): string {
    return join(this.dir, 'images');
  }
  thumbnailPath(imageId: string): string {
    return join(this.thumbnailsDir, `${imageId}.jpg`);
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
    if (await Project.exists(abs)) throw new DinoscopeError('BAD_INPUT', `${join(abs, PROJECT_FILE)} already exists: open it instead of creating a project there.`);
    try {
      const s = await stat(abs);
      if (!s.isDirectory()) throw new DinoscopeError('BAD_INPUT', `${abs} is a file, not a folder: a project is a folder.`);
    } catch (err) {
      if (err instanceof DinoscopeError) throw err;
    }
    const project = new Project(abs, emptyProject(name?.trim() || basename(abs)));
    await project.ensureFolders();
    await project.save();
    return project;
  }

  static async open(dir: string): Promise<Project> {
    const abs = resolve(dir);
    const file = join(abs, PROJECT_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new DinoscopeError('NOT_FOUND', `${file} does not exist: ${abs} is not a Dinoscope project.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new DinoscopeError('CORRUPT', `${file}: not valid JSON (${(err as Error).message}).`);
    }
    const project = new Project(abs, validateProject(parsed, file));
    await project.ensureFolders();
    return project;
  }

  async ensureFolders(): Promise<void> {
    await mkdir(this.thumbnailsDir, { recursive: true });
    await mkdir(this.pyramidsDir, { recursive: true });
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n');
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
    const i = this.data.images.findIndex((x) => x.id === image.id);
    if (i >= 0) this.data.images[i] = image;
    else this.data.images.push(image);
  }

  remove(id: string): StoredImage {
    const img = this.requireImage(id);
    this.data.images = this.data.images.filter((x) => x.id !== id);
    return img;
  }

  /** Marks images whose source moved or vanished (or changed size) as 'missing', and missing ones that are
   * back as their former state. Returns whether anything changed. */
  async checkSources(): Promise<boolean> {
    let changed = false;
    for (const img of this.data.images) {
      let present = false;
      try {
        present = (await stat(img.path)).isFile();
      } catch {
        present = false;
      }
      if (!present && img.status !== 'missing') {
        img.status = 'missing';
        img.reason = `The source file ${img.path} was moved or deleted.`;
        changed = true;
      } else if (present && img.status === 'missing') {
        img.status = img.meta ? 'ok' : 'unsupported';
        delete img.reason;
        if (!img.meta) img.reason = `${img.path} came back but was never read; import it again.`;
        changed = true;
      }
    }
    return changed;
  }

  /** Extracted feature sets (core/features/extract). */
  featureSets(): readonly StoredFeatureSet[] {
    return this.data.features;
  }

  /** Adds or replaces (by id) a feature set; call save() after. */
  upsertFeatureSet(set: StoredFeatureSet): void {
    const i = this.data.features.findIndex((x) => x.id === set.id);
    if (i >= 0) this.data.features[i] = set;
    else this.data.features.push(set);
  }

  /** Training runs (core/train/run.ts): plain records, each with a unique `name`. */
  runs(): readonly unknown[] {
    return this.data.runs;
  }

  /** Adds or replaces (by name) a training run record; call save() after. */
  upsertRun(run: { name: string }): void {
    const i = this.data.runs.findIndex((x) => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === run.name);
    if (i >= 0) this.data.runs[i] = run;
    else this.data.runs.push(run);
  }

  summary(): ProjectSummary {
    const withFeatures = new Set(this.data.features.flatMap((set) => set.images.filter((i) => i.complete && i.indexedRows > 0).map((i) => i.imageId)));
    const images = this.data.images.map((img) => {
      const e = toEntry(img);
      if (withFeatures.has(img.id)) e.hasFeatures = true;
      return e;
    });
    return { path: this.dir, name: this.data.name, images };
  }
}

export function toEntry(img: StoredImage): ImageEntry {
  const e: ImageEntry = { id: img.id, path: img.path, name: img.name, status: img.status, bytes: img.bytes };
  if (img.reason !== undefined) e.reason = img.reason;
  if (img.meta !== undefined) e.meta = img.meta;
  return e;
}

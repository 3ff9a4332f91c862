// The model manager: lists, imports, downloads and deletes model folders in the user's models folder and
// the open project's models/ folder. Each model is a folder <id>/ holding model.safetensors (kept in the
// layout it came in: checksums stay those of the source), config.json and dinoscope.json (manifest.ts).
// New folders are assembled under a dot-named staging folder and renamed into place, so a crash never
// leaves a half model; a download's staging folder is stable per id, so a retry resumes it.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CatalogueModelInfo, ModelDownloadOptions, ModelImportOptions, ModelInfo } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { Job, JobRegistry } from '../../jobs/registry.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { inspectWeights, loadWeights, readConfigBeside, type LoadedWeights, type WeightsInfo } from '../weights/import.js';
import { pthToSafetensors } from '../weights/pth.js';
import { type ViTConfig, validateConfig } from '../config.js';
import { initParams } from '../params.js';
import { catalogue, catalogueEntry, type CatalogueFile } from './catalogue.js';
import { writeModelFolder } from './create.js';
import { download } from './download.js';
import { CONFIG, MANIFEST, WEIGHTS, modelInfo, newManifest, readManifest, writeManifest } from './manifest.js';
import { projectModelsDir, slug, userModelsDir } from './paths.js';
import { readAttachedManifest } from '../text/attached.js';

/** `info` with its attached dino.txt text tower, when it has one (a damaged attachment reads as none:
 * the model stays usable, and extraction with it names the damaged file). */
async function withTextTower(info: ModelInfo): Promise<ModelInfo> {
  const m = await readAttachedManifest(info.path).catch(() => null);
  return m ? { ...info, textTower: { source: m.source, attached: m.attached } } : info;
}

export interface ModelManagerOptions {
  /** The open project's folder, or null. */
  projectDir: () => string | null;
  jobs: JobRegistry;
  /** Defaults to userModelsDir() ($DINOSCOPE_HOME/models or ~/.local/share/dinoscope/models). */
  userDir?: string;
  /** Token for gated downloads when the caller gives none (default: $HF_TOKEN). */
  defaultToken?: () => string | undefined;
}

const exists = async (p: string): Promise<boolean> => {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
};

/** Extensions of PyTorch checkpoints (torch.save's ZIP format), imported by conversion to safetensors. */
const PTH_EXTENSIONS = ['.pth', '.pt'];

async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function copyHashing(from: string, to: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const src = createReadStream(from, { highWaterMark: 1 << 20 });
  src.on('data', (c) => {
    hash.update(c as Buffer);
    bytes += (c as Buffer).length;
  });
  await pipeline(src, createWriteStream(to));
  return { sha256: hash.digest('hex'), bytes };
}

/** A display name from a URL: the repository of a huggingface.co resolve URL, else the file's folder or stem. */
function nameFromUrl(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  const r = parts.indexOf('resolve');
  if (r > 0) return parts[r - 1];
  const file = parts.at(-1) ?? 'model';
  const stem = file.replace(/\.safetensors$/, '');
  return stem === 'model' && parts.length > 1 ? parts[parts.length - 2] : stem;
}

export class ModelManager {
  readonly userDir: string;
  /** Why folders were left out of the last list() (damaged manifest or weights), one sentence each. */
  problems: string[] = [];
  constructor(private readonly opts: ModelManagerOptions) {
    this.userDir = opts.userDir ?? userModelsDir();
  }

  private dirFor(location: 'project' | 'user' = 'user'): string {
    if (location === 'user') return this.userDir;
    const p = this.opts.projectDir();
    if (!p)
      throw new DinoscopeError('BAD_INPUT', 'No project is open: open a project to keep a model in it, or use the user models folder.');
    return projectModelsDir(p);
  }

  private locations(): { dir: string; location: 'project' | 'user' }[] {
    const p = this.opts.projectDir();
    return [...(p ? [{ dir: projectModelsDir(p), location: 'project' as const }] : []), { dir: this.userDir, location: 'user' as const }];
  }

  /** Every model; project models first. Folders without a manifest (copied in by hand) are inspected. */
  async list(): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    const problems: string[] = [];
    for (const { dir, location } of this.locations()) {
      let names: string[];
      try {
        names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
      } catch {
        continue;
      }
      for (const id of names.sort()) {
        const path = join(dir, id);
        try {
          const m = await readManifest(path);
          if (m) out.push(await withTextTower(modelInfo(id, path, location, m)));
          else if (await exists(join(path, WEIGHTS))) {
            const info = await inspectWeights(join(path, WEIGHTS));
            const bytes = (await stat(join(path, WEIGHTS))).size;
            out.push(
              await withTextTower(
                modelInfo(
                  id,
                  path,
                  location,
                  newManifest({ name: id, source: path, licence: 'unknown', sha256: '', bytes, layout: info.layout, config: info.config }),
                ),
              ),
            );
          }
        } catch (err) {
          // One damaged folder must not hide the others: it is left out and its problem kept.
          problems.push(err instanceof Error ? err.message : String(err));
        }
      }
    }
    this.problems = problems;
    return out;
  }

  async find(id: string): Promise<ModelInfo> {
    const m = (await this.list()).find((x) => x.id === id);
    if (!m)
      throw new DinoscopeError(
        'NOT_FOUND',
        `No model "${id}" in ${this.locations()
          .map((l) => l.dir)
          .join(' or ')}.`,
      );
    return m;
  }

  /** The model's weights as canonical tensors and its config. */
  async load(id: string): Promise<LoadedWeights & { model: ModelInfo }> {
    const model = await this.find(id);
    return { ...(await loadWeights(join(model.path, WEIGHTS))), model };
  }

  async catalogue(): Promise<CatalogueModelInfo[]> {
    const installed = new Set((await this.list()).map((m) => m.source));
    return catalogue.map((c) => ({
      id: c.id,
      name: c.name,
      arch: c.arch,
      size: c.size,
      patchSize: c.patchSize,
      registers: c.registers,
      params: c.params,
      bytes: c.bytes,
      licence: c.licence,
      licenceUrl: c.licenceUrl,
      gated: c.gated,
      ...(c.note ? { note: c.note } : {}),
      homepage: c.homepage,
      installed: installed.has(c.id),
    }));
  }

  private async freeId(dir: string, wanted: string): Promise<string> {
    const base = slug(wanted);
    for (let i = 1; ; i++) {
      const id = i === 1 ? base : `${base}-${i}`;
      if (!(await exists(join(dir, id)))) return id;
    }
  }

  /** Resolves a .safetensors file or a folder to its weights file. */
  private async weightsFileOf(path: string): Promise<string> {
    let s;
    try {
      s = await stat(path);
    } catch {
      throw new DinoscopeError('NOT_FOUND', `${path}: no such file or folder.`);
    }
    if (s.isFile()) {
      if (!['.safetensors', ...PTH_EXTENSIONS].includes(extname(path)))
        throw new DinoscopeError(
          'UNSUPPORTED',
          `${path}: import a .safetensors or PyTorch .pth file (with its config.json beside it) or a model folder.`,
        );
      return path;
    }
    const files = (await readdir(path)).filter((f) => f.endsWith('.safetensors'));
    if (files.includes(WEIGHTS)) return join(path, WEIGHTS);
    if (files.length === 1) return join(path, files[0]);
    throw new DinoscopeError(
      'BAD_INPUT',
      `${path}: a model folder needs one .safetensors file (found ${files.length ? files.join(', ') : 'none'}).`,
    );
  }

  /**
   * A freshly initialised model (the initialisation training starts from, reproducible from `seed`): the
   * baseline against which a trained model's features are judged.
   */
  async initRandom(config: ViTConfig, seed: number, o: ModelImportOptions = {}): Promise<ModelInfo> {
    validateConfig(config);
    const dir = this.dirFor(o.location);
    await mkdir(dir, { recursive: true });
    const name = o.name ?? `random ${config.arch} ${config.dim}d seed ${seed}`;
    const id = await this.freeId(dir, name);
    const tensors = new Map(Object.entries(initParams(config, seed)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
    await writeModelFolder(dir, id, config, tensors, {
      name,
      source: `init:${seed}`,
      licence: 'freshly initialised, no training',
      metadata: { dinoscope_init_seed: String(seed) },
    });
    return this.info(dir, id, o.location ?? 'user');
  }

  /** Copies a checkpoint (+ its config.json) into a new model folder after checking it. */
  async importPath(path: string, o: ModelImportOptions = {}, job?: Job): Promise<ModelInfo> {
    const file = await this.weightsFileOf(path);
    const configJson = await readConfigBeside(file);
    const pth = PTH_EXTENSIONS.includes(extname(file));
    // A PyTorch checkpoint is checked after its conversion (the layouts read safetensors headers).
    const checked = pth ? null : await inspectWeights(file, { configJson });
    const dir = this.dirFor(o.location);
    await mkdir(dir, { recursive: true });
    const stem = basename(file, extname(file));
    const id = await this.freeId(dir, o.name ?? (stem === 'model' ? basename(dirname(file)) : stem));
    const staging = join(dir, `.import-${id}-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      let sha256: string;
      let bytes: number;
      if (pth) {
        job?.progress(0, 1, 'converting the PyTorch checkpoint');
        await pthToSafetensors(file, join(staging, WEIGHTS), (done, total) =>
          job?.progress(done, total, 'converting the PyTorch checkpoint'),
        );
        ({ sha256, bytes } = await hashFile(join(staging, WEIGHTS)));
      } else {
        job?.progress(0, 1, 'copying');
        ({ sha256, bytes } = await copyHashing(file, join(staging, WEIGHTS)));
      }
      const info = checked ?? (await inspectWeights(join(staging, WEIGHTS), { configJson }));
      job?.throwIfCancelled();
      await this.writeConfig(staging, join(dirname(file), CONFIG), configJson, info);
      await writeManifest(
        staging,
        newManifest({ name: o.name ?? id, source: path, licence: 'unknown', sha256, bytes, layout: info.layout, config: info.config }),
      );
      await rename(staging, join(dir, id));
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    return this.info(dir, id, o.location ?? 'user');
  }

  private async writeConfig(
    target: string,
    sourceConfig: string,
    configJson: Record<string, unknown> | null,
    info: WeightsInfo,
  ): Promise<void> {
    if (configJson) await copyFile(sourceConfig, join(target, CONFIG));
    else {
      // No config.json came with the weights: record what the layout needs to read them again.
      const c = info.config;
      await writeFileAtomic(
        join(target, CONFIG),
        `${JSON.stringify({ num_heads: c.heads, num_attention_heads: c.heads, layer_norm_eps: c.eps, dinoscope_layout: info.layout }, null, 2)}\n`,
      );
    }
  }

  private async info(dir: string, id: string, location: 'project' | 'user'): Promise<ModelInfo> {
    const m = await readManifest(join(dir, id));
    if (!m) throw new DinoscopeError('INTERNAL', `${join(dir, id, MANIFEST)} was not written.`);
    return modelInfo(id, join(dir, id), location, m);
  }

  /** Downloads a catalogue model or a .safetensors URL (with the config.json beside it when the server has one). */
  async download(source: string, o: ModelDownloadOptions = {}, job?: Job): Promise<ModelInfo> {
    const isUrl = /^https?:\/\//i.test(source);
    const entry = isUrl ? null : catalogueEntry(source);
    let files: (CatalogueFile & { optional?: boolean })[];
    if (entry) files = entry.files;
    else {
      if (!new URL(source).pathname.endsWith('.safetensors'))
        throw new DinoscopeError(
          'BAD_INPUT',
          `${source}: download a .safetensors file (its config.json is fetched from the same folder when present).`,
        );
      files = [
        { name: WEIGHTS, url: source, ...(o.sha256 ? { sha256: o.sha256 } : {}) },
        { name: CONFIG, url: new URL('config.json', source).toString(), optional: true },
      ];
    }
    const dir = this.dirFor(o.location);
    await mkdir(dir, { recursive: true });
    const wanted = slug(o.name ?? entry?.id ?? nameFromUrl(source));
    if (await exists(join(dir, wanted)))
      throw new DinoscopeError('BAD_INPUT', `A model "${wanted}" is already in ${dir}: delete it first or choose another name.`);
    const staging = join(dir, `.download-${wanted}`);
    await mkdir(staging, { recursive: true });
    const token = o.token ?? this.opts.defaultToken?.() ?? process.env.HF_TOKEN;
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const total = entry?.bytes ?? 0;
    let done = 0;
    for (const f of files) {
      const dest = join(staging, f.name);
      if (await exists(dest)) continue; // fetched by an earlier attempt
      const before = done;
      try {
        const r = await download({
          url: f.url,
          dest,
          ...(f.sha256 ? { sha256: f.sha256 } : {}),
          ...(headers ? { headers } : {}),
          signal: job?.signal,
          onProgress: (d, t) => job?.progress(before + d, Math.max(total, before + (t ?? d)), f.name),
        });
        done = before + r.bytes;
      } catch (err) {
        if (f.optional && err instanceof DinoscopeError && err.code === 'NOT_FOUND') continue;
        throw err;
      }
    }
    const weights = join(staging, WEIGHTS);
    const configJson = await readConfigBeside(weights);
    let info: WeightsInfo;
    try {
      info = await inspectWeights(weights, { configJson });
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    if (!configJson) await this.writeConfig(staging, '', null, info);
    const sha256 = await new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(weights)
        .on('data', (c) => h.update(c as Buffer))
        .on('end', () => resolve(h.digest('hex')))
        .on('error', reject);
    });
    const bytes = (await stat(weights)).size;
    await writeManifest(
      staging,
      newManifest({
        name: o.name ?? entry?.name ?? wanted,
        source,
        licence: entry?.licence ?? 'unknown',
        sha256,
        bytes,
        layout: info.layout,
        config: info.config,
      }),
    );
    await rename(staging, join(dir, wanted));
    return this.info(dir, wanted, o.location ?? 'user');
  }

  /** Removes a model folder (a project model first when both folders hold the id). */
  async remove(id: string): Promise<void> {
    const m = await this.find(id);
    await rm(m.path, { recursive: true, force: true });
  }

  /** importPath as a 'model-import' job. */
  importAsJob(path: string, o: ModelImportOptions = {}): Promise<ModelInfo> {
    return this.opts.jobs.run('model-import', `Import model ${basename(path)}`, 1, (job) => this.importPath(path, o, job));
  }

  /** download as a 'model-download' job (progress in bytes; cancel keeps the partial files for a retry). */
  downloadAsJob(source: string, o: ModelDownloadOptions = {}): Promise<ModelInfo> {
    const entry = /^https?:\/\//i.test(source) ? null : catalogueEntry(source);
    return this.opts.jobs.run('model-download', `Download ${entry?.name ?? source}`, entry?.bytes ?? 0, (job) =>
      this.download(source, o, job),
    );
  }
}

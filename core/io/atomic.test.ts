// The atomic writer fsyncs the file before the rename and the folder after it, and every state file goes
// through it: project.json (with its run records), a training run's config and checkpoint (JSON and
// safetensors), feature-store manifests and model manifests. Syncs are observed through onSync on real
// writes; a source scan keeps new code from renaming or writing files around the atomic writer.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeatureStore } from '../features/store/writer.js';
import { newManifest, writeManifest } from '../model/manager/manifest.js';
import { vitConfig } from '../model/config.js';
import { Project } from '../project/project.js';
import { TINY_OVERRIDES } from '../train/config.js';
import { runPretrain } from '../train/run.js';
import { onSync, syncFiles, type SyncKind, writeFileAtomic, writeFileAtomicLazy } from './atomic.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-atomic-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The syncs `work` caused, as [kind, path relative to dir]. */
async function syncsOf(work: () => Promise<unknown>): Promise<[SyncKind, string][]> {
  const seen: [SyncKind, string][] = [];
  const off = onSync((kind, path) => seen.push([kind, relative(dir, path)]));
  try {
    await work();
  } finally {
    off();
  }
  return seen;
}

describe('writeFileAtomic', () => {
  it('fsyncs the new file before its rename and its folder after, and leaves no temp file', async () => {
    const target = join(dir, 'one', 'state.json');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, 'old');
    const syncs = await syncsOf(() => writeFileAtomic(target, '{"new":true}'));
    expect(syncs).toEqual([
      ['file', 'one/state.json'],
      ['folder', 'one'],
    ]);
    expect(await readFile(target, 'utf8')).toBe('{"new":true}');
    expect(await readdir(dirname(target))).toEqual(['state.json']);
  });

  it('keeps the old file, syncs nothing and removes its temp file when the rename fails', async () => {
    const target = join(dir, 'two', 'state.json');
    await mkdir(target, { recursive: true }); // a folder where the file should go: rename fails with EISDIR
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await readdir(dirname(target))).toEqual(['state.json']);
  });
});

describe('writeFileAtomicLazy and syncFiles', () => {
  it('replace a file without a sync, then make a group of them durable: each file, then each folder once', async () => {
    const a = join(dir, 'lazy', 'a');
    const b = join(dir, 'lazy', 'b');
    const c = join(dir, 'lazy2', 'c');
    await mkdir(dirname(a), { recursive: true });
    await mkdir(dirname(c), { recursive: true });
    await writeFile(a, 'old');
    const written = await syncsOf(async () => {
      for (const p of [a, b, c]) await writeFileAtomicLazy(p, new Uint8Array([1, 2, 3]));
    });
    expect(written).toEqual([]);
    expect([...(await readFile(a))]).toEqual([1, 2, 3]);
    expect((await readdir(dirname(a))).sort()).toEqual(['a', 'b']); // no temp file left
    const synced = await syncsOf(() => syncFiles([a, b, c]));
    expect(synced.slice(0, 3).sort()).toEqual([
      ['file', 'lazy/a'],
      ['file', 'lazy/b'],
      ['file', 'lazy2/c'],
    ]);
    expect(synced.slice(3)).toEqual([
      ['folder', 'lazy'],
      ['folder', 'lazy2'],
    ]);
  });
});

describe('every state file goes through the atomic writer', () => {
  it('project.json, run records, the run config and checkpoint files, feature-store and model manifests', async () => {
    const S = 128;
    const px = Buffer.alloc(S * S * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 256;
    const img = join(dir, 'tex.png');
    await sharp(px, { raw: { width: S, height: S, channels: 3 } })
      .png()
      .toFile(img);
    const created = await syncsOf(() => Project.create(join(dir, 'p')));
    expect(created).toContainEqual(['file', 'p/project.json']);
    const project = await Project.open(join(dir, 'p'));
    const upserted = await syncsOf(() =>
      project.update((p) =>
        p.upsert({ id: 'a', path: img, name: 'tex.png', status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
      ),
    );
    expect(upserted).toEqual([
      ['file', 'p/project.json'],
      ['folder', 'p'],
    ]);

    const run = await syncsOf(() =>
      runPretrain(project, { name: 'r', steps: 1, overrides: { ...TINY_OVERRIDES, runtime: { threads: 1 } } }),
    );
    const files = run.filter(([k]) => k === 'file').map(([, p]) => p);
    expect(files).toContain('p/project.json'); // the run record, at the start and the end
    expect(files).toContain('p/runs/r/train-config.json');
    // The checkpoint is assembled in a hidden temp folder beside checkpoints/latest, then swapped in.
    const ck = files
      .filter((p) => dirname(p) !== 'p/runs/r/checkpoints/latest' && dirname(dirname(p)) === 'p/runs/r/checkpoints')
      .map((p) => basename(p));
    expect(ck.sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'state.json', 'train-config.json']);
    expect(run).toContainEqual(['folder', 'p/runs/r/checkpoints']); // the swap itself
    expect(JSON.parse(readFileSync(join(dir, 'p/runs/r/checkpoints/latest/state.json'), 'utf8'))).toMatchObject({ step: 1 });

    const store = await syncsOf(() =>
      createFeatureStore(join(dir, 'f.zarr'), {
        modelId: 'm',
        modelConfigHash: 'h',
        level: 0,
        mpp: null,
        stride: 16,
        origin: { x: 0, y: 0 },
        gridWidth: 4,
        gridHeight: 4,
        dim: 2,
        chunk: { height: 4, width: 4 },
      }),
    );
    expect(
      store
        .filter(([k]) => k === 'file')
        .map(([, p]) => p)
        .sort(),
    ).toEqual(['f.zarr/0/zarr.json', 'f.zarr/progress.json', 'f.zarr/zarr.json']);

    await mkdir(join(dir, 'model'));
    const manifest = await syncsOf(() =>
      writeManifest(
        join(dir, 'model'),
        newManifest({ name: 'm', source: 'test', licence: 'none', sha256: '0', bytes: 0, layout: 'hf-dinov2', config: vitConfig('tiny') }),
      ),
    );
    expect(manifest).toEqual([
      ['file', 'model/dinoscope.json'],
      ['folder', 'model'],
    ]);
  }, 120_000);

  it('no source file renames or writes files around core/io/atomic.ts except the listed ones', () => {
    // Each exception writes something that is not a replaced state file, or syncs its own folder swap.
    const allowed: Record<string, string> = {
      'core/io/atomic.ts': 'the atomic writer itself',
      'core/train/checkpoint.ts': 'swaps the checkpoint folder (files inside via the atomic writer) and syncs its parent',
      'core/model/manager/create.ts':
        "swaps a model folder (a run's teacher, a fresh init; files inside via the atomic writer) and syncs its parent",
      'core/train/run.ts': 'appends progress.jsonl lines (a log; a torn last line is dropped on resume)',
      'core/io/lock-file.ts': 'lock files (created exclusively, never replaced; a stale one renamed aside before it is taken over)',
      'core/model/manager/manager.ts': 'copies imported weights into a staging folder renamed into place',
      'core/model/manager/download.ts': 'a resumable partial download renamed when its checksum matches',
      'core/serve/upload.ts': 'browser uploads streamed to a temp file',
      'core/data/fixtures/tiff-writer.ts': 'test fixtures',
      'core/data/fixtures/hostile.ts': 'test fixtures (the hostile-file corpus)',
      'core/data/fixtures/hostile-zarr.ts': 'test fixtures (the hostile OME-Zarr folders)',
      'core/data/fixtures/dicom.ts': 'test fixtures (DICOM series)',
      'core/data/fixtures/ome-zarr.ts': 'test fixtures (OME-Zarr folders)',
      'core/data/fixtures/write-channel-fixtures.ts': 'test fixtures (multi-channel images and their masks)',
      'core/model/text/attached.ts': 'copies the dino.txt vocabulary through replaceAtomic into its temp path',
      'core/cli/commands/models.ts': 'copies the dino.txt vocabulary of an export through replaceAtomic into its temp path',
      'core/serve/token-file.ts': 'a token file written owner-only (mode 0600) through replaceAtomic into its temp path',
      'core/train/device-state-run.ts': "a test child's results for its parent (a scratch file, not state)",
    };
    const root = resolve(import.meta.dirname, '../..');
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.child.ts')) {
          const src = readFileSync(p, 'utf8');
          const fsImports = [...src.matchAll(/import\s*\{([^}]*)\}\s*from\s*'node:fs(?:\/promises)?'/g)].flatMap((m) =>
            m[1].split(',').map((s) => s.trim().replace(/^type\s+/, '')),
          );
          const writes =
            fsImports.some((n) =>
              /^(rename|renameSync|writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|copyFile|cp)$/.test(n),
            ) || /\bopen\([^)]*'(?:w|wx|a|ax|w\+|a\+)'/.test(src);
          const rel = relative(root, p);
          if (writes && !(rel in allowed)) offenders.push(rel);
        }
      }
    };
    walk(join(root, 'core'));
    expect(offenders).toEqual([]);
  });
});

describe('failed atomic writes name their target', () => {
  it('under a device that is no folder (/dev/full/x.json) and with a folder in the way, the error carries the target as dest', async () => {
    const err = await writeFileAtomic('/dev/full/x.json', '{}').catch((e: unknown) => e as NodeJS.ErrnoException & { dest?: string });
    expect(err).toMatchObject({ code: 'ENOTDIR', dest: '/dev/full/x.json' });
    const target = join(dir, 'three', 'state.json');
    await mkdir(target, { recursive: true });
    expect(await writeFileAtomic(target, 'x').catch((e: unknown) => e)).toMatchObject({ code: 'EISDIR', dest: target });
  });
});

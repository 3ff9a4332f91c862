// `dinoscope export-training` on a generated project: two pyramidal TIFFs of a tissue rectangle on glass, one
// stating 0.25 µm/px in the file and one whose 0.5 µm/px the user stated. The tile list holds exactly the
// tiles whose centre the project's foreground mask marks (counted here from the cached mask), inside the
// image and inside the tissue, at the asked µm/px on both images; the config YAML (parsed by PyYAML, the
// parser OmegaConf uses) sets only keys of the official default config (fixtures/official-config-keys.json)
// and points the dataset at the tile list; the Python adapter runs under /usr/bin/python3 and reads tiles of
// the right size and pixels through tifffile, and its hook answers the official dataset-string parser; bad
// input exits 2.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { runCli } from '../../cli/main.js';
import { writePyramidalTiff } from '../../data/fixtures/pyramidal-tiff.js';
import { openImage } from '../../data/readers/registry.js';
import { cachedTissueMask } from '../../data/tissue-mask-cache.js';
import { CURATED_FORMAT, type CuratedTiles } from '../../data/train/tile-list.js';
import { Project } from '../../project/project.js';
import type { TrainingExport } from './export.js';

const PY = '/usr/bin/python3';
const keys = JSON.parse(await readFile(join(import.meta.dirname, 'fixtures/official-config-keys.json'), 'utf8')) as {
  recipes: Record<string, { keys: string[] }>;
};

let root: string;
let proj: string;
const S = 2048; // scan.tif: 0.25 µm/px in the file
const H = 1024; // stated.tif: no resolution tag, 0.5 µm/px stated
const TISSUE = { x0: 0.25, x1: 0.7, y0: 0.3, y1: 0.8 }; // the tissue rectangle, as fractions of the side

function slide(side: number): Uint8Array {
  const rgb = new Uint8Array(side * side * 3).fill(242); // glass
  let seed = 7;
  for (let y = Math.round(TISSUE.y0 * side); y < Math.round(TISSUE.y1 * side); y++)
    for (let x = Math.round(TISSUE.x0 * side); x < Math.round(TISSUE.x1 * side); x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = seed % 40;
      rgb.set([190 - n, 80 - n, 150 - n], 3 * (y * side + x)); // H&E-like with texture
    }
  return rgb;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal });
  return { code, out, err };
}

const py = (args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } => {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  return spawnSync(PY, args, { encoding: 'utf8', cwd, env, timeout: 120_000 });
};

/** Leaf key paths of a parsed YAML mapping. */
function leaves(o: Record<string, unknown>, pre = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>, `${pre}${k}.`) : [`${pre}${k}`],
  );
}

let exported: TrainingExport;
let csvRows: string[][];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-handoff-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  proj = join(root, 'project');
  const scan = join(root, 'scan.tif');
  const stated = join(root, 'stated.tif');
  await writePyramidalTiff(scan, {
    width: S,
    height: S,
    tile: 256,
    compression: 'deflate',
    pixelsPerMm: 4000,
    pattern: { data: slide(S), width: S, height: S },
  });
  await writePyramidalTiff(stated, {
    width: H,
    height: H,
    tile: 256,
    compression: 'deflate',
    pattern: { data: slide(H), width: H, height: H },
  });
  expect((await cli(['import', proj, scan])).code).toBe(0);
  expect((await cli(['import', proj, stated, '--mpp', '0.5'])).code).toBe(0);
  const r = await cli([
    'export-training',
    '--project',
    proj,
    '--recipe',
    'dinov2',
    '--mpp',
    '1',
    '--tile-size',
    '64',
    '--out',
    join(root, 'out-v2'),
  ]);
  expect(r.code, r.err).toBe(0);
  exported = JSON.parse(r.out) as TrainingExport;
  csvRows = (await readFile(exported.files.tiles, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the tile list', () => {
  it("holds exactly the tiles on the project's foreground, inside the image and the tissue, at the asked µm/px", async () => {
    expect(csvRows[0]).toEqual(['path', 'level', 'x', 'y', 'size', 'region']);
    expect(exported.data).toBe('all');
    expect(exported.files.curated).toBeUndefined();
    const rows = csvRows
      .slice(1)
      .map(([path, level, x, y, size, region]) => ({ path, level: +level, x: +x, y: +y, size: +size, region: +region }));
    expect(rows.length).toBe(exported.tiles);
    const project = await Project.open(proj);
    let expected = 0;
    for (const img of project.images()) {
      const meta = img.meta!;
      const mpp = meta.mpp ?? img.statedMpp!;
      const mine = rows.filter((r) => r.path === img.path);
      // 1 µm/px: a 64-px tile covers 64 µm, i.e. 256 level-0 pixels of the scan and 128 of the stated image.
      const region = Math.round((64 * 1) / mpp);
      // Counted here from the project's cached mask: grid cells whose centre lies on it.
      const mask = await cachedTissueMask(await readFile(project.thumbnailPath(img.id)), project.tissueMaskPath(img.id));
      const grid = Math.floor(meta.width / region);
      let onMask = 0;
      for (let gy = 0; gy < grid; gy++)
        for (let gx = 0; gx < grid; gx++) {
          const mx = Math.min(mask.width - 1, Math.floor(((gx + 0.5) * region * mask.width) / meta.width));
          const my = Math.min(mask.height - 1, Math.floor(((gy + 0.5) * region * mask.height) / meta.height));
          if (mask.data[my * mask.width + mx]) onMask++;
        }
      expect(mine.length, img.name).toBe(onMask);
      expect(mine.length, img.name).toBeGreaterThan(0);
      expect(mine.length, img.name).toBeLessThan(grid * grid); // the glass is left out
      expected += onMask;
      for (const t of mine) {
        expect(t.size).toBe(64);
        expect(t.region).toBe(region);
        expect(t.region * (mpp / t.size)).toBeCloseTo(1, 9); // µm per tile pixel
        expect(t.x).toBeGreaterThanOrEqual(0);
        expect(t.y).toBeGreaterThanOrEqual(0);
        expect(t.x + t.region).toBeLessThanOrEqual(meta.width);
        expect(t.y + t.region).toBeLessThanOrEqual(meta.height);
        // Its centre is on the tissue (within one tile: the thumbnail's mask is coarse at the edges).
        const cx = (t.x + t.region / 2) / meta.width;
        const cy = (t.y + t.region / 2) / meta.height;
        const slack = t.region / meta.width;
        expect(cx).toBeGreaterThan(TISSUE.x0 - slack);
        expect(cx).toBeLessThan(TISSUE.x1 + slack);
        expect(cy).toBeGreaterThan(TISSUE.y0 - slack);
        expect(cy).toBeLessThan(TISSUE.y1 + slack);
      }
      // The level Dinoscope reads: downsample 4 (scan) and 2 (stated), both stored levels.
      expect(new Set(mine.map((t) => t.level))).toEqual(new Set([img.meta!.mpp ? 2 : 1]));
    }
    expect(exported.tiles).toBe(expected);
    expect(exported.images.map((i) => [i.name, i.mpp])).toEqual([
      ['scan.tif', 1],
      ['stated.tif', 1],
    ]);
  });
});

describe('the config for the official trainer', () => {
  it.each(['dinov2', 'dinov3'] as const)(
    '%s: parses and sets only keys of the official default config, the dataset the tile list',
    async (recipe) => {
      const out = join(root, `yaml-${recipe}`);
      const r =
        recipe === 'dinov2'
          ? { code: 0, out: JSON.stringify(exported) }
          : await cli(['export-training', '--project', proj, '--recipe', recipe, '--mpp', '1', '--tile-size', '64', '--out', out]);
      expect(r.code).toBe(0);
      const e = JSON.parse(r.out) as TrainingExport;
      const parsed = py(['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', e.files.config]);
      expect(parsed.status, parsed.stderr).toBe(0);
      const cfg = JSON.parse(parsed.stdout) as Record<string, Record<string, unknown>>;
      const official = new Set(keys.recipes[recipe].keys);
      const set = leaves(cfg);
      expect(set.filter((k) => !official.has(k))).toEqual([]);
      expect(set).toEqual(
        expect.arrayContaining([
          'train.dataset_path',
          'train.batch_size_per_gpu',
          'train.OFFICIAL_EPOCH_LENGTH',
          'student.arch',
          'student.patch_size',
          'optim.epochs',
        ]),
      );
      expect(cfg.train.dataset_path).toBe(`Dinoscope:root=${e.files.tiles}`);
      expect(cfg.student.arch).toBe('vit_large');
      if (recipe === 'dinov3') {
        expect(cfg.train.sharded_eval_checkpoint).toBe(false); // the unsharded teacher_checkpoint.pth models import reads
        expect(cfg.student.n_storage_tokens).toBe(4);
      } else expect(cfg.student.num_register_tokens).toBe(4);
      const readme = await readFile(e.files.readme, 'utf8');
      expect(readme).toContain(e.commands.torchrun);
      expect(readme).toContain(e.commands.slurm);
      expect(readme).toContain(e.commands.import);
      expect(e.commands.slurm).toContain(recipe === 'dinov2' ? `${e.files.adapter} submit --recipe dinov2` : 'python -m dinov3.run.submit');
    },
    120_000,
  );
});

describe('the dataset adapter (dinoscope_tiles.py) under /usr/bin/python3', () => {
  it('reads every listed tile at its size through tifffile, with the pixels Dinoscope reads there', async () => {
    const r = py([exported.files.adapter, 'check', exported.files.tiles, '--reader', 'tifffile', '--count', '6']);
    expect(r.status, r.stderr).toBe(0);
    const check = JSON.parse(r.stdout) as { tiles: number; checked: { index: number; size: number[]; mode: string; mean: number[] }[] };
    expect(check.tiles).toBe(exported.tiles);
    expect(check.checked).toHaveLength(6);
    const rows = csvRows.slice(1);
    for (const c of check.checked) {
      expect(c.size).toEqual([64, 64]);
      expect(c.mode).toBe('RGB');
      // The same square read by Dinoscope's reader at the level it chose, scaled to 64 × 64.
      const [path, level, x, y, , region] = rows[c.index];
      const reader = await openImage(path);
      try {
        const d = reader.meta.levels[+level].downsample;
        const side = Math.round(+region / d);
        const rgb = await reader.readRegion(+level, Math.round(+x / d), Math.round(+y / d), side, side);
        const px = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
          .resize(64, 64, { kernel: 'linear' })
          .raw()
          .toBuffer();
        for (let ch = 0; ch < 3; ch++) {
          let s = 0;
          for (let i = ch; i < px.length; i += 3) s += px[i];
          expect(Math.abs(s / (64 * 64) - c.mean[ch]), `tile ${c.index} channel ${ch}`).toBeLessThan(4);
        }
      } finally {
        await reader.close();
      }
    }
  }, 120_000);

  it("answers the official loaders' dataset string and gives (image, target) after the transform", async () => {
    // A stand-in for <recipe>/data/loaders.py with the official parser's contract (it knows only its own datasets).
    const pkg = join(root, 'fake-official');
    await mkdir(join(pkg, 'dinov2', 'data'), { recursive: true });
    await writeFile(join(pkg, 'dinov2', '__init__.py'), '');
    await writeFile(join(pkg, 'dinov2', 'data', '__init__.py'), '');
    await writeFile(
      join(pkg, 'dinov2', 'data', 'loaders.py'),
      'def _parse_dataset_str(s):\n    raise ValueError(f\'Unsupported dataset "{s}"\')\n',
    );
    const script = [
      'import sys, json',
      `sys.path[:0] = [${JSON.stringify(pkg)}, ${JSON.stringify(exported.dir)}]`,
      'import dinoscope_tiles as d',
      'd.install("dinov2")',
      'from dinov2.data import loaders',
      `cls, kw = loaders._parse_dataset_str("Dinoscope:root=" + ${JSON.stringify(exported.files.tiles)} + ":reader=tifffile")`,
      'ds = cls(transform=lambda im: im.size, target_transform=lambda t: "target", **kw)',
      'image, target = ds[len(ds) - 1]',
      'try:',
      '    loaders._parse_dataset_str("ImageNet:split=TRAIN")',
      '    other = "accepted"',
      'except ValueError as e:',
      '    other = str(e)',
      'print(json.dumps({"cls": cls.__name__, "kw": kw, "len": len(ds), "image": list(image), "target": target, "other": other}))',
    ].join('\n');
    const r = py(['-c', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      cls: 'DinoscopeTiles',
      kw: { root: exported.files.tiles, reader: 'tifffile' },
      len: exported.tiles,
      image: [64, 64],
      target: 'target',
      other: 'Unsupported dataset "ImageNet:split=TRAIN"', // the official datasets still go to the official parser
    });
  }, 60_000);
});

describe('a curated set', () => {
  it('--data curated lists one tile centred on each square of the set, at the asked µm/px, clamped inside the image', async () => {
    const project = await Project.open(proj);
    const [scan, stated] = project.images();
    const squares = [
      { imageId: scan.id, x: 1000, y: 1200, size: 200, cluster: 0 },
      { imageId: scan.id, x: 0, y: 0, size: 40, cluster: 1 },
      { imageId: stated.id, x: 300, y: 200, size: 100, cluster: 0 },
    ];
    const list: CuratedTiles = {
      format: CURATED_FORMAT,
      version: 1,
      featureSet: 'set',
      modelId: 'm',
      mpp: 1,
      level: null,
      createdAt: new Date().toISOString(),
      params: { tilePatches: 14, dedupThreshold: 0.98, levels: [2], target: 3, perImageCap: 1, seed: 0 },
      stats: { candidates: 3, duplicates: 0, distinct: 3, clustersBefore: [2, 1], clustersAfter: [2, 1] },
      tiles: squares,
    };
    await mkdir(join(proj, 'cache', 'curation'), { recursive: true });
    await writeFile(join(proj, 'cache', 'curation', 'mine.json'), JSON.stringify(list));
    const r = await cli([
      'export-training',
      '--project',
      proj,
      '--recipe',
      'dinov3',
      '--mpp',
      '1',
      '--tile-size',
      '64',
      '--data',
      'curated:mine',
      '--out',
      join(root, 'out-cur'),
    ]);
    expect(r.code, r.err).toBe(0);
    const e = JSON.parse(r.out) as TrainingExport;
    expect(e.tiles).toBe(3);
    const rows = (await readFile(e.files.tiles, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    // 64 px at 1 µm/px: 256 level-0 pixels of the scan (0.25 µm/px), 128 of the stated image (0.5 µm/px).
    expect(rows.map(([path, , x, y, size, region]) => [path, +x, +y, +size, +region])).toEqual([
      [scan.path, 1100 - 128, 1300 - 128, 64, 256],
      [scan.path, 0, 0, 64, 256],
      [stated.path, 350 - 64, 250 - 64, 64, 128],
    ]);
    // The set itself travels with the tiles, and README.txt says where they come from.
    expect(e.data).toBe('curated:mine');
    expect(e.files.curated).toBe(join(root, 'out-cur', 'curated-set.json'));
    expect(JSON.parse(await readFile(e.files.curated!, 'utf8'))).toEqual(list);
    const readme = await readFile(e.files.readme, 'utf8');
    expect(readme).toContain('Tiles:   3 tiles of the curated set "mine" of 64 x 64 pixels at 1 µm per pixel');
    expect(readme).toContain('curated-set.json    the curated set the tiles come from');
  }, 120_000);
});

describe('bad input', () => {
  it('exits 2 with what to do', async () => {
    const cases: [string[], RegExp][] = [
      [['--project', proj], /needs --recipe, one of dinov2, dinov3/],
      [['--project', proj, '--recipe', 'dinov4'], /--recipe must be one of dinov2, dinov3, got "dinov4"/],
      [
        ['--project', proj, '--recipe', 'dinov2', '--data', 'curated:none'],
        /none\.json does not exist: make the curated set first \(dinoscope curate\)/,
      ],
      [['--project', proj, '--recipe', 'dinov2', '--data', 'some'], /--data must be all, curated or curated:NAME/],
      [['--project', proj, '--recipe', 'dinov2', '--mpp', '1', '--level', '1'], /either --mpp or --level/],
      [['--project', proj, '--recipe', 'dinov2', '--mpp', '0'], /--mpp must be a positive number/],
      [['--project', proj, '--recipe', 'dinov2', '--mpp', '0.1'], /finer than the scan/],
      [['--project', proj, '--recipe', 'dinov2', '--tile-size', '8'], /--tile-size must be from 32 to 4096/],
      [['--project', join(root, 'nowhere'), '--recipe', 'dinov2'], /is not a Dinoscope project/],
      [['--project', proj, '--recipe', 'dinov2', '--bogus', '1'], /unknown option --bogus/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['export-training', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.out).toBe('');
    }
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
    await service.createProject(join(root, 'empty'));
    await service.close();
    const empty = await cli(['export-training', '--project', join(root, 'empty'), '--recipe', 'dinov3']);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('no readable images to export tiles of; import images first');
  }, 120_000);
});

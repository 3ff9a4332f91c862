// dinoscope search --text on a real project: texture mosaics imported by the AppService, a tiny random
// DINOv3 backbone (models init in code), the dino.txt parity fixture attached with `models attach-text`,
// features extracted by `dinoscope extract` through the vision head (mask off: every patch is indexed). The text query's matches must be the
// collection's best cosines between the text query vector and the stored patch embeddings (computed here
// independently from the stores), and a set extracted without a text tower is refused in plain words.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../../analysis/fixture.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { openFeatureStore } from '../../features/store/reader.js';
import { Session } from '../../graph/runtime.js';
import { hostTensor } from '../../graph/tensor.js';
import { vitConfig } from '../../model/config.js';
import { readAttachedDinoTxt } from '../../model/text/attached.js';
import { TextQueryEncoder } from '../../model/text/encoder.js';
import { Project } from '../../project/project.js';
import type { CliIo, Command } from '../command.js';
import { extractCommand } from './extract.js';
import { modelsCommand } from './models.js';
import { searchCommand } from './search.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../../model/text/fixtures/${p}`, import.meta.url));
let root: string;
let project: string;
let textModel: { id: string; path: string };
let plainModel: { id: string };

async function run(cmd: Command, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal };
  const code = await cmd.run(argv, io);
  return { code, out, err };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-search-text-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const paths = await writeMosaics(join(root, 'slides'), 2, { side: 64, stride: 4, dim: 8 });
  project = join(root, 'project');
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
  await service.createProject(project);
  await service.importPaths(paths);
  await service.idle();
  // The fixture's vision head is 32 wide with 2 heads, trained (here: drawn) on a backbone with 2 registers.
  const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: 4, registers: 2 });
  textModel = await service.models.initRandom(vit, 3, { name: 'tiny txt', location: 'project' });
  plainModel = await service.models.initRandom(vit, 4, { name: 'tiny plain', location: 'project' });
  await service.close();
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('dinoscope search --text', () => {
  it('attaches a dino.txt checkpoint, extracts head embeddings and finds the best-scoring patches of the collection', async () => {
    const a = await run(modelsCommand, [
      'attach-text',
      textModel.id,
      '--project',
      project,
      '--weights',
      fixture('tiny.safetensors'),
      '--vocab',
      fixture('tiny-vocab.txt.gz'),
    ]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ model: textModel.id, config: { embedDim: 32, visionDim: 32 } });

    const e = await run(extractCommand, [
      '--project',
      project,
      '--model',
      textModel.id,
      '--level',
      '0',
      '--mask',
      'off',
      '--threads',
      '1',
      '--activate',
    ]);
    expect(e.code).toBe(0);
    expect(e.err).toMatch(/dino\.txt: storing the vision head's 16-wide patch embeddings/);
    const p = await Project.open(project);
    const set = p.activeFeatureSet()!;
    expect(set.textAligned).toBe(true);
    expect(set.dim).toBe(16);

    const r = await run(searchCommand, ['--project', project, '--text', 'tumour nuclei', '--k', '3']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { query: { text: string; imageId: string }; matches: { imageId: string; score: number }[] };
    expect(j.query.text).toBe('tumour nuclei');
    expect(j.matches).toHaveLength(3);

    // Independently: the text's query vector against every stored patch embedding of the collection.
    const attached = (await readAttachedDinoTxt(textModel.path))!;
    const enc = await TextQueryEncoder.create(attached);
    const [q] = await enc.patchQueries(['tumour nuclei']);
    await enc.release();
    let best = -Infinity;
    for (const fi of set.images) {
      const store = await openFeatureStore(join(project, fi.store));
      const f = await store.readRect(0, 0, fi.gridWidth, fi.gridHeight); // (h, w, 16)
      for (let i = 0; i < fi.gridWidth * fi.gridHeight; i++) {
        let dot = 0;
        let nn = 0;
        for (let d = 0; d < 16; d++) {
          dot += q[d] * f[i * 16 + d];
          nn += f[i * 16 + d] ** 2;
        }
        best = Math.max(best, dot / Math.sqrt(nn));
      }
    }
    expect(j.matches[0].score).toBeCloseTo(best, 2); // the index stores float16-rounded unit vectors
    for (let i = 1; i < j.matches.length; i++) expect(j.matches[i].score).toBeLessThanOrEqual(j.matches[i - 1].score);
  }, 120_000);

  it('models export --format onnx also writes the text tower and backbone + head, giving the embeddings the app uses', async () => {
    const out = join(root, 'onnx');
    const r = await run(modelsCommand, ['export', textModel.id, '--project', project, '--format', 'onnx', '--out', out]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      dinotxt: { text: { path: join(out, 'text.onnx') }, vision: { path: join(out, 'vision.onnx') } },
    });
    const attached = (await readAttachedDinoTxt(textModel.path))!;
    const enc = await TextQueryEncoder.create(attached);
    const [want] = await enc.patchQueries(['glands']);
    await enc.release();
    const s = await Session.create(await readFile(join(out, 'text.onnx')));
    const ids = attached.tokenizer.tokenize(['fat', 'glands'], 16);
    const got = (await s.run({ tokens: hostTensor('int64', [2, 16], ids) })).text.data as Float32Array; // (2, 32)
    const half = got.slice(32 + 16, 64);
    const norm = Math.hypot(...half);
    for (let d = 0; d < 16; d++) expect(half[d] / norm).toBeCloseTo(want[d], 5);
    await s.release();
    const v = await Session.create(await readFile(join(out, 'vision.onnx')));
    const images = hostTensor('float32', [1, 3, 16, 24], new Float32Array(3 * 16 * 24).fill(0.5));
    expect((await v.run({ images })).patches.dims).toEqual([1, 24, 16]);
    await v.release();
  }, 60_000);

  it('refuses a feature set extracted without a text tower, saying what to do', async () => {
    const e = await run(extractCommand, ['--project', project, '--model', plainModel.id, '--level', '0', '--threads', '1']);
    expect(e.code).toBe(0);
    const p = await Project.open(project);
    const plainSet = p.featureSets().find((s) => s.modelId === plainModel.id)!;
    expect(plainSet.textAligned).toBeUndefined();
    await expect(run(searchCommand, ['--project', project, '--text', 'fat', '--set', plainSet.id])).rejects.toThrow(
      /Text search needs features extracted with a dino\.txt model.*attach-text/,
    );
    await expect(run(searchCommand, ['--project', project, '--text', ' '])).rejects.toThrow(/needs some words/);
  }, 120_000);
});

// Extraction's device on a real project (a PNG of 20 × 18 patches, a random tiny ViT in the project's
// models folder). This machine has no GPU, so webgpu and cuda do not open here, which is itself tested:
// 'cpu' runs on cpu without probing; 'auto' takes the probe's selected provider (cpu here) and says so;
// an explicit 'webgpu' through the CLI in a separate process runs on cpu with one warning line and nothing
// native (Vulkan, Dawn, XDG_RUNTIME_DIR) on its stderr, and its features equal the cpu run's exactly.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedProject } from '../../app/fixture-service.js';
import type { AppService } from '../../app/service.js';
import type { ExtractOptions, ExtractSummary } from '../../common/api.js';
import { hardwareProbed, probeHardware } from '../../hardware/hardware.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { openFeatureStore } from '../store/reader.js';
import { readManifest, resumeFeatureStore } from '../store/writer.js';
import { checkDevice, chooseDevice, GPU_BATCH } from './device.js';
import { texture, tinyViT } from './fixture.js';
import { extractFeatures } from './project.js';

const root = resolve(import.meta.dirname, '../../..');
const cfg = tinyViT(1);
const [GW, GH] = [20, 18];
let dir: string;
let service: AppService;
let imageId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-extract-device-'));
  const path = join(dir, 'tex.png');
  await writeFile(
    path,
    await sharp(texture(GW * 14, GH * 14, 7), { raw: { width: GW * 14, height: GH * 14, channels: 3 } })
      .png()
      .toBuffer(),
  );
  let ids: string[];
  ({ service, ids } = await importedProject(dir, [path]));
  imageId = ids[0];
  const weights = initParams(cfg, 5);
  const tensors = new Map<string, WeightTensor>(
    Object.entries(weights).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(dir, 'project')), 'tiny'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

/** Extracts in this process; the set's folder is removed first so every run computes every chunk. */
async function run(device: ExtractOptions['device'], context: 'whole' | 'tiled'): Promise<{ s: ExtractSummary; log: string[] }> {
  await rm(join(dir, 'project', 'cache', 'features'), { recursive: true, force: true });
  const log: string[] = [];
  const s = await extractFeatures(
    service.requireProject(),
    service.models,
    { modelId: 'tiny', level: 0, context, device },
    { threads: 1, log: (l) => log.push(l) },
  );
  return { s, log };
}

/** The stored grid (gh, gw, D) of the image, and the manifest's providers. */
async function stored(s: ExtractSummary): Promise<{ grid: Float32Array; providers: string[] | undefined }> {
  const store = await openFeatureStore(join(s.dir, `${imageId}.zarr`));
  return { grid: await store.readRect(0, 0, GW, GH), providers: store.manifest.providers };
}

describe('extraction device', () => {
  it("'cpu' never probes and runs on cpu, the provider in the log, summary and manifest", async () => {
    const { s, log } = await run('cpu', 'tiled');
    expect(hardwareProbed()).toBe(false);
    expect(s.provider).toBe('cpu');
    expect(s.warnings).toEqual([]);
    expect(log).toContain('device: cpu (as asked).');
    expect(log.find((l) => l.includes('tex.png:') && l.includes(' patches, '))).toMatch(/s on cpu\)\.$/);
    expect((await stored(s)).providers).toEqual(['cpu']);
  }, 60_000);

  it("'auto' takes the probe's selected provider (cpu on this machine) and says why", async () => {
    const hw = await probeHardware();
    const { s, log } = await run(undefined, 'tiled');
    expect(hardwareProbed()).toBe(true);
    expect(s.provider).toBe(hw.selected);
    const line = log.find((l) => l.startsWith('device:'));
    if (hw.selected === 'cpu')
      expect(line).toMatch(/^device: auto → cpu \(hardware probe; (cuda, webgpu|cuda|webgpu) not available here\)\.$/);
    else expect(line).toBe(`device: auto → ${hw.selected} (hardware probe).`);
  }, 90_000);

  it("explicit 'webgpu' here (the CLI, its own process): cpu with one warning line, no native lines on stderr, features equal the cpu run's exactly", async () => {
    const hw = await probeHardware();
    if (hw.providers.find((p) => p.name === 'webgpu')?.available) return; // a WebGPU machine: the fallback cannot happen
    const cpu = await stored((await run('cpu', 'whole')).s);
    await rm(join(dir, 'project', 'cache', 'features'), { recursive: true, force: true });
    const script = `import { runCli } from './core/cli/main.ts'; process.exitCode = await runCli(${JSON.stringify(['extract', '--project', join(dir, 'project'), '--model', 'tiny', '--level', '0', '--context', 'whole', '--device', 'webgpu', '--threads', '1'])}, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), signal: new AbortController().signal });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    const warnings = lines.filter((l) => /warning/i.test(l));
    expect(warnings).toHaveLength(1);
    // In plain words: what is missing, that the CPU runs instead, what to do; none of the probe's raw lines.
    expect(warnings[0]).toMatch(
      /^warning: device webgpu is not available here: no GPU adapter was found.*\. Extraction runs on the CPU instead\. [A-Z].*\.$/,
    );
    expect(warnings[0]).not.toMatch(/webgpu unavailable|Failed to get a WebGPU adapter|onnxruntime_src|BackendVk/);
    // Every other line is one of extraction's own (context, progress, per-image): nothing native got through.
    expect(lines.filter((l) => l !== warnings[0] && !/^(context: |extract: \d|extract: search index: |.*tex\.png: )/.test(l))).toEqual([]);
    const s = JSON.parse(r.stdout) as ExtractSummary;
    expect(s.provider).toBe('cpu');
    expect(s.warnings).toEqual([warnings[0]]);
    expect(s.context).toBe('whole');
    const gpu = await stored(s);
    expect(gpu.providers).toEqual(['cpu']);
    expect(gpu.grid).toEqual(cpu.grid);
  }, 150_000);

  it('checks the device option and chooses providers from a probe answer', async () => {
    expect(checkDevice(undefined)).toBe('auto');
    expect(() => checkDevice('gpu')).toThrow(/device must be auto, cpu, webgpu or cuda, got gpu/);
    await expect(service.extractFeatures({ modelId: 'tiny', device: 'metal' as ExtractOptions['device'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    // The probe's raw reason as hardware.ts keeps it when the CUDA provider library cannot load cuDNN.
    const cudnnMissing =
      'cuda unavailable (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library); onnxruntime: Failed to load library /opt/dinoscope/libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory';
    const webgpuHere = async (): Promise<Awaited<ReturnType<typeof probeHardware>>> => ({
      providers: [
        {
          name: 'cuda',
          available: false,
          note: 'The NVIDIA cuDNN 9 libraries are not installed. Dinoscope uses WebGPU instead.',
          detail: cudnnMissing,
        },
        { name: 'webgpu', available: true },
        { name: 'cpu', available: true },
      ],
      selected: 'webgpu',
      cpuThreads: 16,
    });
    expect(await chooseDevice('auto', webgpuHere)).toEqual({
      providers: ['webgpu'],
      line: 'device: auto → webgpu (hardware probe).',
      fellBack: false,
    });
    expect(await chooseDevice('webgpu', webgpuHere)).toMatchObject({ providers: ['webgpu'], fellBack: false });
    // An explicit cuda that the probe found missing runs on cpu (not on the selected webgpu), the warning in plain words.
    expect(await chooseDevice('cuda', webgpuHere)).toEqual({
      providers: ['cpu'],
      line: "warning: device cuda is not available here: the NVIDIA cuDNN 9 libraries are not installed. Extraction runs on the CPU instead. To use the NVIDIA GPU, install cuDNN 9 for CUDA 12 (NVIDIA's cudnn9-cuda-12 package).",
      fellBack: true,
      detail: cudnnMissing,
    });
    expect(GPU_BATCH).toBe(32);
  });
});

// The manifest: providers are recorded once each, in order of first use (a resume on another one appends).
it('a resumed store names each provider that computed its chunks', async () => {
  const { s } = await run('cpu', 'tiled');
  const storeDir = join(s.dir, `${imageId}.zarr`);
  const w = await resumeFeatureStore(storeDir);
  await w.addProvider('cpu');
  await w.addProvider('webgpu');
  await w.addProvider('webgpu');
  expect((await readManifest(storeDir)).providers).toEqual(['cpu', 'webgpu']);
  expect(JSON.parse(await readFile(join(storeDir, 'zarr.json'), 'utf8')).attributes.ome).toBeDefined();
});

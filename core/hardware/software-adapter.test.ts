// A WebGPU adapter on a Vulkan driver that runs on the CPU (SwiftShader, Mesa's lavapipe) opens, but is
// slower than onnxruntime's CPU kernels: the probe recognises it from the Vulkan drivers the loader would
// use (vulkan-drivers.ts) and never selects WebGPU for it.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swiftShaderEnv, swiftShaderMissing } from '../graph/swiftshader.js';
import { hardwareFrom } from './hardware.js';
import { softwareAdapterProblem } from './probe.js';
import { onlySoftwareDrivers, vulkanDrivers } from './vulkan-drivers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
const manifest = (library: string): string =>
  JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-vulkan-'));
  await mkdir(join(dir, 'cpu-only/vulkan/icd.d'), { recursive: true });
  await mkdir(join(dir, 'with-gpu/vulkan/icd.d'), { recursive: true });
  await writeFile(join(dir, 'cpu-only/vulkan/icd.d/lvp_icd.x86_64.json'), manifest('/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so'));
  await writeFile(join(dir, 'with-gpu/vulkan/icd.d/lvp_icd.x86_64.json'), manifest('/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so'));
  await writeFile(join(dir, 'with-gpu/vulkan/icd.d/nvidia_icd.json'), manifest('libGLX_nvidia.so.0'));
  await writeFile(join(dir, 'swiftshader.json'), manifest('./libvk_swiftshader.so'));
  await writeFile(join(dir, 'broken.json'), '{ not json');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An environment whose loader search sees only `data` (no /etc, no home). */
const searchOnly = (data: string): NodeJS.ProcessEnv => ({
  XDG_CONFIG_DIRS: join(dir, 'none'),
  XDG_DATA_HOME: join(dir, 'none'),
  XDG_DATA_DIRS: data,
});

describe('software Vulkan drivers', () => {
  it('reads the drivers as the Vulkan loader finds them and tells CPU drivers from GPU ones', () => {
    const swift = vulkanDrivers({ VK_DRIVER_FILES: join(dir, 'swiftshader.json') });
    expect(swift.map((d) => d.software)).toEqual(['SwiftShader']);
    expect(onlySoftwareDrivers(swift)).toEqual(['SwiftShader']);
    expect(
      vulkanDrivers({ VK_ICD_FILENAMES: `${join(dir, 'swiftshader.json')}:${join(dir, 'broken.json')}` }).map((d) => d.software),
    ).toEqual(['SwiftShader']); // the older name; an unreadable manifest is left out
    expect(onlySoftwareDrivers(vulkanDrivers(searchOnly(join(dir, 'cpu-only'))))).toEqual(['lavapipe']);
    const both = vulkanDrivers(searchOnly(join(dir, 'with-gpu')));
    expect(both.map((d) => d.software).sort()).toEqual(['lavapipe', null]);
    expect(onlySoftwareDrivers(both)).toBeNull(); // Dawn prefers the GPU's adapter
    expect(
      onlySoftwareDrivers(
        vulkanDrivers({ VK_DRIVER_FILES: join(dir, 'swiftshader.json'), VK_ADD_DRIVER_FILES: join(dir, 'with-gpu/vulkan/icd.d') }),
      ),
    ).toBeNull();
    expect(onlySoftwareDrivers(vulkanDrivers(searchOnly(join(dir, 'none'))))).toBeNull(); // no driver: WebGPU fails to open on its own
    expect(softwareAdapterProblem({ VK_DRIVER_FILES: join(dir, 'swiftshader.json') }, 'darwin')).toBeNull(); // Metal / D3D12 elsewhere
  });

  it('a WebGPU adapter on SwiftShader is unavailable with a plain note, and the CPU is selected', () => {
    const problem = softwareAdapterProblem({ VK_DRIVER_FILES: join(dir, 'swiftshader.json') }, 'linux');
    expect(problem).toBe(`software Vulkan driver only: SwiftShader (${join(dir, 'swiftshader.json')}), which runs on the CPU`);
    const hw = hardwareFrom(
      { results: [{ name: 'webgpu', problem }], stderr: new Map([['', []]]), failure: null },
      new Set(['webgpu', 'cpu']),
      4,
    );
    expect(hw.selected).toBe('cpu');
    const webgpu = hw.providers.find((p) => p.name === 'webgpu')!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.note).toBe(
      "No GPU adapter was found: WebGPU would run on SwiftShader, a Vulkan driver that runs on the CPU, slower than Dinoscope's CPU path. Dinoscope runs on the CPU instead. " +
        "To use the GPU, install its Vulkan driver (mesa-vulkan-drivers for AMD/Intel, the NVIDIA driver's Vulkan part for NVIDIA); nothing to do on a computer without a GPU.",
    );
    expect(webgpu.detail).toBe(problem);
  });

  const missing = swiftShaderMissing();
  it.skipIf(missing)(
    `the real probe, in a process whose Vulkan loader sees only SwiftShader: WebGPU opens there but is not selected, and its adapter runs no float16 (the CPU's kernels do)${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const ss = await swiftShaderEnv();
      try {
        const script =
          `import { probeHardware } from './core/hardware/hardware.ts'; import { probeFloat16 } from './core/hardware/probe.ts';` +
          `const hw = await probeHardware(); const f16 = { webgpu: await probeFloat16('webgpu'), cpu: await probeFloat16('cpu') };` +
          `process.stdout.write(JSON.stringify({ hw, f16 }));`;
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: root,
          encoding: 'utf8',
          timeout: 120_000,
          env: ss.env,
        });
        expect(r.status, r.stderr).toBe(0);
        const { hw, f16 } = JSON.parse(r.stdout) as { hw: ReturnType<typeof hardwareFrom>; f16: Record<string, boolean> };
        // SwiftShader has no shader-f16: onnxruntime's WebGPU refuses float16 ("Program Cast requires f16 but the
        // device does not support it"), so mixed precision never runs on it; the CPU's float16 MatMul does.
        expect(f16).toEqual({ webgpu: false, cpu: true });
        expect(hw.selected).toBe('cpu');
        const webgpu = hw.providers.find((p) => p.name === 'webgpu')!;
        expect(webgpu.available).toBe(false);
        // The software problem is only reported for an adapter that opened (probe-worker.ts).
        expect(webgpu.detail).toMatch(/^software Vulkan driver only: SwiftShader \(/);
        expect(webgpu.note).toMatch(/^No GPU adapter was found: WebGPU would run on SwiftShader/);
      } finally {
        await ss.close();
      }
    },
    150_000,
  );
});

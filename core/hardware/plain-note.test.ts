// The notes of unavailable providers in plain words, from probe runs shaped as the probe child reports them:
// the session error as runtime.ts words its fallback, and the stderr lines onnxruntime, the Vulkan loader and
// Dawn print (ANSI colours stripped, as probeInChild keeps them). Each note says what is missing, what
// Dinoscope does instead and what to do; the raw lines stay in `detail` for bug reports.
import { describe, expect, it } from 'vitest';
import { hardwareFrom, type ProbeRun } from './hardware.js';

const ORT = '/opt/dinoscope/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
const both = new Set(['cuda', 'webgpu', 'cpu']);

/** onnxruntime's line when its provider bridge cannot load a library (provider_bridge_ort.cc). */
function bridgeLine(library: string, error: string): string {
  return (
    '2026-12-06 02:36:51.554305559 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 ' +
    `onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library ${library} with error: ${error}: cannot open shared object file: No such file or directory`
  );
}

const cudaBridgeFailed =
  'execution provider fallback: cuda unavailable (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library); running on cpu';
const noAdapter =
  'execution provider fallback: webgpu unavailable (/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters); running on cpu';
const noVulkanLoader = [
  "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory",
  'at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)',
];
const noVulkanDriver = [
  'ERROR: [Loader Message] Code 0 : vkCreateInstance: Found no drivers!',
  'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER',
  'at CreateVkInstance (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:495)',
];

function run(cuda: { problem: string | null; lines?: string[] }, webgpu: { problem: string | null; lines?: string[] }): ProbeRun {
  return {
    results: [
      { name: 'cuda', problem: cuda.problem },
      { name: 'webgpu', problem: webgpu.problem },
    ],
    stderr: new Map([
      ['', []],
      ['cuda', cuda.lines ?? []],
      ['webgpu', webgpu.lines ?? []],
    ]),
    failure: null,
  };
}

function entry(hw: ReturnType<typeof hardwareFrom>, name: string): { available: boolean; note?: string; detail?: string } {
  const p = hw.providers.find((x) => x.name === name);
  if (!p) throw new Error(`no ${name}`);
  return p;
}

/** A plain note: no source paths, no C++ frames, no onnxruntime error codes, one line. */
function expectPlain(note: string | undefined): void {
  expect(note).toBeTruthy();
  expect(note).not.toMatch(/onnxruntime_src|\.cc:\d|ONNXRuntimeError|Ort\w+_Cuda|operator\(\)|\/build\/|\n/);
}

describe('plain notes of unavailable providers', () => {
  it('no CUDA provider files and no Vulkan loader (a computer without a GPU): cpu instead, what to install, raw lines in detail', () => {
    const shared = `${ORT}/libonnxruntime_providers_shared.so`;
    const hw = hardwareFrom(
      run({ problem: cudaBridgeFailed, lines: [bridgeLine(shared, shared)] }, { problem: noAdapter, lines: noVulkanLoader }),
      both,
      4,
    );
    expect(hw.selected).toBe('cpu');
    const cuda = entry(hw, 'cuda');
    expectPlain(cuda.note);
    expect(cuda.note).toBe(
      'The CUDA provider files of onnxruntime are not installed with Dinoscope. Dinoscope runs on the CPU instead. ' +
        'To use an NVIDIA GPU, run "ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node" in the Dinoscope folder (it downloads them); nothing to do on a computer without an NVIDIA GPU.',
    );
    expect(cuda.detail).toContain(`Failed to load library ${shared}: cannot open shared object file`);
    expect(cuda.detail).toContain('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    const webgpu = entry(hw, 'webgpu');
    expectPlain(webgpu.note);
    expect(webgpu.note).toBe(
      'No GPU adapter was found: the Vulkan loader (libvulkan.so.1) is not installed. Dinoscope runs on the CPU instead. ' +
        "To use the GPU, install the Vulkan loader (Debian/Ubuntu: libvulkan1) and your GPU's Vulkan driver (mesa-vulkan-drivers, or the NVIDIA driver); nothing to do on a computer without a GPU.",
    );
    expect(webgpu.detail).toContain('Failed to get a WebGPU adapter: No supported adapters');
    expect(webgpu.detail).toContain("Couldn't load Vulkan: libvulkan.so.1");
    expect(entry(hw, 'cpu')).toEqual({ name: 'cpu', available: true });
  });

  it('cuDNN 9 missing on an NVIDIA machine where WebGPU runs: names cuDNN, says WebGPU is used instead', () => {
    const lines = [bridgeLine(`${ORT}/libonnxruntime_providers_cuda.so`, 'libcudnn.so.9')];
    const hw = hardwareFrom(run({ problem: cudaBridgeFailed, lines }, { problem: null }), both, 16);
    expect(hw.selected).toBe('webgpu');
    const cuda = entry(hw, 'cuda');
    expectPlain(cuda.note);
    expect(cuda.note).toBe(
      "The NVIDIA cuDNN 9 libraries are not installed. Dinoscope uses WebGPU instead. To use the NVIDIA GPU, install cuDNN 9 for CUDA 12 (NVIDIA's cudnn9-cuda-12 package).",
    );
    expect(cuda.detail).toContain('with error: libcudnn.so.9: cannot open shared object file');
    // The probe child's run had no float16 result for WebGPU: no mixed precision on it (core/train/precision.ts).
    expect(entry(hw, 'webgpu')).toEqual({ name: 'webgpu', available: true, float16: false });
    const f16 = run({ problem: cudaBridgeFailed, lines }, { problem: null });
    f16.results![1].float16 = true; // an adapter with shader-f16 ran the float16 probe
    expect(entry(hardwareFrom(f16, both, 16), 'webgpu')).toEqual({ name: 'webgpu', available: true, float16: true });
    const cudaRuns = hardwareFrom(run({ problem: null }, { problem: null }), both, 16);
    expect(entry(cudaRuns, 'cuda')).toEqual({ name: 'cuda', available: true, float16: true });
  });

  it('the CUDA 12 runtime missing, the NVIDIA driver missing, no NVIDIA device, a driver too old', () => {
    const cudaNote = (problem: string, lines: string[] = []): string | undefined =>
      entry(hardwareFrom(run({ problem, lines }, { problem: noAdapter, lines: noVulkanDriver }), both, 8), 'cuda').note;
    const runtime = cudaNote(cudaBridgeFailed, [bridgeLine(`${ORT}/libonnxruntime_providers_cuda.so`, 'libcublasLt.so.12')]);
    expectPlain(runtime);
    expect(runtime).toMatch(
      /^The NVIDIA CUDA 12 runtime libraries are not installed \(libcublasLt\.so\.12 is missing\)\. Dinoscope runs on the CPU instead\. To use the NVIDIA GPU, install the CUDA 12 runtime/,
    );
    expect(cudaNote(cudaBridgeFailed, [bridgeLine(`${ORT}/libonnxruntime_providers_cuda.so`, 'libcuda.so.1')])).toMatch(
      /^The NVIDIA driver is not installed \(libcuda\.so\.1 is missing\)\. Dinoscope runs on the CPU instead\. To use an NVIDIA GPU, install its driver/,
    );
    const device =
      'execution provider fallback: cuda unavailable ([ONNXRuntimeError] : 1 : FAIL : CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=slide-01 ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_execution_provider.cc ; line=282 ; expr=cudaSetDevice(info_.device_id); ); running on cpu';
    expect(cudaNote(device)).toMatch(
      /^No NVIDIA GPU was found\. Dinoscope runs on the CPU instead\. Nothing to do on a computer without an NVIDIA GPU/,
    );
    const old =
      'execution provider fallback: cuda unavailable ([ONNXRuntimeError] : 1 : FAIL : CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0 ; hostname=slide-01 ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_execution_provider.cc ; line=282 ; expr=cudaSetDevice(info_.device_id); ); running on cpu';
    expect(cudaNote(old)).toMatch(
      /^The NVIDIA driver is too old for CUDA 12\. Dinoscope runs on the CPU instead\. Update the NVIDIA driver/,
    );
  });

  it('no Vulkan driver: a plain WebGPU note; needs nothing done where CUDA runs', () => {
    const cpuOnly = entry(
      hardwareFrom(run({ problem: cudaBridgeFailed }, { problem: noAdapter, lines: noVulkanDriver }), both, 8),
      'webgpu',
    );
    expectPlain(cpuOnly.note);
    expect(cpuOnly.note).toMatch(
      /^No GPU adapter was found \(no Vulkan driver\)\. Dinoscope runs on the CPU instead\. To use the GPU, install its Vulkan driver/,
    );
    expect(cpuOnly.detail).toContain('VK_ERROR_INCOMPATIBLE_DRIVER');
    const withCuda = hardwareFrom(run({ problem: null }, { problem: noAdapter, lines: noVulkanDriver }), both, 8);
    expect(withCuda.selected).toBe('cuda');
    expect(entry(withCuda, 'webgpu').note).toBe(
      'No GPU adapter was found (no Vulkan driver). Dinoscope uses CUDA, which it prefers: nothing to do.',
    );
  });

  it('a probe that crashed, and a provider not in this onnxruntime build', () => {
    const crashed: ProbeRun = {
      results: null,
      stderr: new Map([
        ['', []],
        ['cuda', ['Segmentation fault']],
      ]),
      failure: 'the probe process was killed (SIGSEGV)',
    };
    const hw = hardwareFrom(crashed, new Set(['cuda', 'cpu']), 2);
    const cuda = entry(hw, 'cuda');
    expectPlain(cuda.note);
    expect(cuda.note).toMatch(
      /^Checking for CUDA failed \(the probe process was killed \(SIGSEGV\)\), as a broken GPU driver can make it\. Dinoscope runs on the CPU instead\. If this computer has a GPU, reinstall its driver/,
    );
    expect(cuda.detail).toContain('Segmentation fault');
    expect(entry(hw, 'webgpu')).toEqual({
      name: 'webgpu',
      available: false,
      note: 'This build of onnxruntime has no WebGPU support. Dinoscope runs on the CPU instead. Nothing to do.',
      detail: 'not in this onnxruntime build',
    });
  });
});

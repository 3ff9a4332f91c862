// Why a GPU provider is unavailable, in plain words. The probe's raw reason (the session error, onnxruntime's
// own error line, the Vulkan loader's and Dawn's lines) is what a bug report needs, but a user needs three
// things: what is missing, what Dinoscope does instead, and what to do (install something, or nothing).
// `explainProvider` reads the raw text for the known causes; `plainNote` adds what runs instead. The raw
// text stays in the provider's `detail` (TrainHardware), behind the Train panel's "details" disclosure.

/** What is missing and what to do, each one sentence without the final full stop. */
export interface Explanation {
  missing: string;
  todo: string;
}

const LABEL: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'the CPU' };

/** A provider's name for a sentence ("CUDA", "WebGPU", "the CPU"). */
export function providerWords(name: string): string {
  return LABEL[name] ?? name;
}

/** Libraries of the CUDA 12 runtime that onnxruntime's CUDA provider links against. */
const CUDA_RUNTIME = /lib(cudart|cublas|cublasLt|cufft|curand|nvrtc)\.so(\.\d+)*/;

const NOT_IN_BUILD = /^not in this onnxruntime build/;
const NOT_PROBED = /^not probed: (.*)$/s;

function explainCuda(raw: string): Explanation {
  const noNvidia = 'nothing to do on a computer without an NVIDIA GPU';
  if (
    /libonnxruntime_providers_(shared|cuda)\.so(?: with error: \S+libonnxruntime_providers_\w+\.so)?: cannot open shared object file/.test(
      raw,
    )
  ) {
    return {
      missing: 'the CUDA provider files of onnxruntime are not installed with Dinoscope',
      todo: `To use an NVIDIA GPU, run "ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node" in the Dinoscope folder (it downloads them); ${noNvidia}`,
    };
  }
  if (/libcuda\.so(\.\d+)*: cannot open/.test(raw)) {
    return {
      missing: 'the NVIDIA driver is not installed (libcuda.so.1 is missing)',
      todo: `To use an NVIDIA GPU, install its driver; ${noNvidia}`,
    };
  }
  const cudnn = /libcudnn\w*\.so\.(\d+)/.exec(raw);
  if (cudnn) {
    return {
      missing: `the NVIDIA cuDNN ${cudnn[1]} libraries are not installed`,
      todo: `To use the NVIDIA GPU, install cuDNN ${cudnn[1]} for CUDA 12 (NVIDIA's cudnn${cudnn[1]}-cuda-12 package)`,
    };
  }
  const runtime = CUDA_RUNTIME.exec(raw);
  if (runtime) {
    return {
      missing: `the NVIDIA CUDA 12 runtime libraries are not installed (${runtime[0]} is missing)`,
      todo: "To use the NVIDIA GPU, install the CUDA 12 runtime (NVIDIA's cuda-libraries-12 package, or the CUDA 12 toolkit)",
    };
  }
  if (/no CUDA-capable device is detected|CUDA failure 100\b/.test(raw)) {
    return {
      missing: 'no NVIDIA GPU was found',
      todo: 'Nothing to do on a computer without an NVIDIA GPU; if it has one, check that its driver is loaded (nvidia-smi)',
    };
  }
  if (/driver version is insufficient|CUDA failure 35\b/.test(raw)) {
    return { missing: 'the NVIDIA driver is too old for CUDA 12', todo: 'Update the NVIDIA driver (CUDA 12 needs version 525 or newer)' };
  }
  return { missing: 'CUDA could not start here', todo: `${noNvidia}; otherwise open the details below for what onnxruntime reported` };
}

function explainWebgpu(raw: string): Explanation {
  const noGpu = 'nothing to do on a computer without a GPU';
  if (/libvulkan\.so(\.\d+)*: cannot open shared object file/.test(raw)) {
    return {
      missing: 'no GPU adapter was found: the Vulkan loader (libvulkan.so.1) is not installed',
      todo: `To use the GPU, install the Vulkan loader (Debian/Ubuntu: libvulkan1) and your GPU's Vulkan driver (mesa-vulkan-drivers, or the NVIDIA driver); ${noGpu}`,
    };
  }
  const software = /^software Vulkan driver only: ([^(]+?) \(/.exec(raw);
  if (software) {
    return {
      missing: `no GPU adapter was found: WebGPU would run on ${software[1]}, a Vulkan driver that runs on the CPU, slower than Dinoscope's CPU path`,
      todo: `To use the GPU, install its Vulkan driver (mesa-vulkan-drivers for AMD/Intel, the NVIDIA driver's Vulkan part for NVIDIA); ${noGpu}`,
    };
  }
  if (/Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER|no Vulkan (driver|ICD)/i.test(raw)) {
    return {
      missing: 'no GPU adapter was found (no Vulkan driver)',
      todo: `To use the GPU, install its Vulkan driver (mesa-vulkan-drivers for AMD/Intel, the NVIDIA driver's Vulkan part for NVIDIA); ${noGpu}`,
    };
  }
  if (/WebGPU adapter|No supported adapters|adapter/i.test(raw)) {
    return { missing: 'no GPU adapter was found', todo: `${noGpu.replace(/^n/, 'N')}; with one, install its Vulkan driver` };
  }
  return {
    missing: 'WebGPU could not start here',
    todo: `${noGpu.replace(/^n/, 'N')}; otherwise open the details below for what onnxruntime reported`,
  };
}

/** What is missing for `name` and what to do, from the probe's raw reason (note and native lines). */
export function explainProvider(name: string, raw: string): Explanation {
  const words = providerWords(name);
  if (NOT_IN_BUILD.test(raw)) return { missing: `this build of onnxruntime has no ${words} support`, todo: 'Nothing to do' };
  const notProbed = NOT_PROBED.exec(raw);
  if (notProbed) {
    return {
      missing: `checking for ${words} failed (${notProbed[1].replace(/ \(last output: .*$/s, '')}), as a broken GPU driver can make it`,
      todo: 'If this computer has a GPU, reinstall its driver; the details below hold the last output for a bug report',
    };
  }
  if (name === 'cuda') return explainCuda(raw);
  if (name === 'webgpu') return explainWebgpu(raw);
  return { missing: `${words} could not start here`, todo: 'Open the details below for what onnxruntime reported' };
}

/**
 * The note of an unavailable provider: what is missing, what Dinoscope uses (`selected`, the first
 * available provider), and what to do, as plain sentences on one line. A provider less preferred than the
 * selected one (webgpu when cuda runs) needs nothing done.
 */
export function plainNote(name: string, why: Explanation, selected: string): string {
  if (PREFERENCE.indexOf(selected) >= 0 && PREFERENCE.indexOf(selected) < PREFERENCE.indexOf(name)) {
    return `${capital(why.missing)}. Dinoscope uses ${providerWords(selected)}, which it prefers: nothing to do.`;
  }
  const instead = selected === 'cpu' ? 'Dinoscope runs on the CPU instead' : `Dinoscope uses ${providerWords(selected)} instead`;
  return `${capital(why.missing)}. ${instead}. ${capital(why.todo)}.`;
}

/** The preference order (hardware.ts PROVIDER_ORDER), to tell "instead" from "preferred anyway". */
const PREFERENCE = ['cuda', 'webgpu', 'cpu'];

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

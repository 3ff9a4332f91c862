// WebGPU without a GPU, for tests and benchmarks only: onnxruntime-node's WebGPU provider (Dawn over Vulkan)
// opens on the CPU through SwiftShader, the software Vulkan driver Debian's chromium ships. Its speed means
// nothing; where onnxruntime places the nodes and what they compute are real (core/graph/placement.ts).
// Mesa's lavapipe is rejected by Dawn. The variables are read when the Vulkan loader starts, so they are set
// in the environment of a child process, never in the app's own.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** chromium's SwiftShader Vulkan driver manifest (Debian's chromium package). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * The environment for a child process whose WebGPU runs on SwiftShader, from `base`: the driver manifest, the
 * Vulkan loader beside it (chromium ships libvulkan.so.1; Debian's libvulkan1 may be absent) and a writable
 * XDG_RUNTIME_DIR (Dawn refuses to start without one). Null when the manifest is absent (no chromium).
 */
export function swiftShaderEnv(runtimeDir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | null {
  if (!existsSync(SWIFTSHADER_ICD)) return null;
  const lib = dirname(SWIFTSHADER_ICD);
  return { ...base, VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: [lib, base.LD_LIBRARY_PATH].filter(Boolean).join(':'), XDG_RUNTIME_DIR: runtimeDir };
}

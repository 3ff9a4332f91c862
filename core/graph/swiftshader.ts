// SwiftShader: the Vulkan driver on the CPU that Debian's chromium ships. Through it onnxruntime's WebGPU
// provider opens on a machine without a GPU, so tests and benches can check what WebGPU computes and where
// its tensors live (never how fast: it is a CPU rasteriser). It must be named before onnxruntime loads
// (the Vulkan loader reads its environment once), so WebGPU checks run in a child process with `env`.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SWIFTSHADER_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');

export interface SwiftShaderEnv {
  /** process.env plus the Vulkan driver list, the loader's directory and a private XDG_RUNTIME_DIR. */
  env: NodeJS.ProcessEnv;
  /** Removes the temporary directory. */
  close(): Promise<void>;
}

/** Where SwiftShader is missing, why (for a test's skip message); null where it is present. */
export function swiftShaderMissing(): string | null {
  if (!existsSync(SWIFTSHADER_ICD))
    return `SwiftShader's Vulkan driver (${SWIFTSHADER_ICD}, from Debian's chromium package) is not installed`;
  if (!existsSync(join(SWIFTSHADER_DIR, 'libvulkan.so.1')))
    return `chromium's Vulkan loader (${SWIFTSHADER_DIR}/libvulkan.so.1) is missing`;
  return null;
}

/**
 * An environment for a child process whose onnxruntime WebGPU provider runs on SwiftShader. Only the Vulkan
 * loader of chromium's folder is put on the library path (through a symlink in a temporary folder), not its
 * other libraries.
 */
export async function swiftShaderEnv(): Promise<SwiftShaderEnv> {
  const missing = swiftShaderMissing();
  if (missing) throw new Error(`SwiftShader is not available: ${missing}`);
  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-swiftshader-'));
  const lib = join(dir, 'lib');
  const run = join(dir, 'run');
  await mkdir(lib);
  await mkdir(run, { mode: 0o700 });
  await symlink(join(SWIFTSHADER_DIR, 'libvulkan.so.1'), join(lib, 'libvulkan.so.1'));
  const libPath = [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    env: {
      ...process.env,
      VK_ICD_FILENAMES: SWIFTSHADER_ICD,
      VK_DRIVER_FILES: SWIFTSHADER_ICD,
      LD_LIBRARY_PATH: libPath,
      XDG_RUNTIME_DIR: run,
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

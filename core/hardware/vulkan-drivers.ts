// The Vulkan drivers the Vulkan loader would offer WebGPU (Dawn) in this process, read from their ICD
// manifests the way the loader finds them on Linux: VK_DRIVER_FILES (or the older VK_ICD_FILENAMES) replace
// the search, VK_ADD_DRIVER_FILES adds to it, else the icd.d folders under XDG_CONFIG_DIRS, /etc,
// XDG_DATA_HOME and XDG_DATA_DIRS. A driver that runs on the CPU (SwiftShader, Mesa's lavapipe) gives a
// working WebGPU adapter that is slower than onnxruntime's own CPU kernels, so when it is the only one the
// hardware probe does not offer WebGPU for real work (hardware.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

export interface VulkanDriver {
  /** The ICD manifest (JSON) path. */
  manifest: string;
  /** Its library_path. */
  library: string;
  /** The CPU driver it is, by its library's name, or null for a GPU's. */
  software: 'SwiftShader' | 'lavapipe' | null;
}

/** A CPU driver, by its library (libvk_swiftshader.so; Mesa's libvulkan_lvp.so). */
export function softwareDriver(library: string): VulkanDriver['software'] {
  const name = basename(library).toLowerCase();
  if (name.includes('swiftshader')) return 'SwiftShader';
  if (/lvp|lavapipe|llvmpipe/.test(name)) return 'lavapipe';
  return null;
}

const list = (v: string | undefined): string[] => (v ?? '').split(':').filter(Boolean);

/** Manifest files at `path`: the file itself, or the .json files of a folder; none where it is missing. */
function manifests(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(path, f));
  } catch {
    return [];
  }
}

/** The drivers of this environment (unreadable manifests are left out). */
export function vulkanDrivers(env: NodeJS.ProcessEnv = process.env): VulkanDriver[] {
  const override = list(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  let places: string[];
  if (override.length) places = override;
  else {
    const config = [...list(env.XDG_CONFIG_DIRS ?? '/etc/xdg'), '/etc'];
    const data = [env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), ...list(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share')];
    places = [...config, ...data].map((d) => join(d, 'vulkan/icd.d'));
  }
  places.push(...list(env.VK_ADD_DRIVER_FILES));
  const out: VulkanDriver[] = [];
  for (const manifest of [...new Set(places.flatMap(manifests))]) {
    try {
      const library = String((JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '');
      if (library) out.push({ manifest, library, software: softwareDriver(library) });
    } catch {
      // not a manifest the loader could use either
    }
  }
  return out;
}

/** When every driver runs on the CPU: their names ("SwiftShader"); null when a GPU driver is there (or none is). */
export function onlySoftwareDrivers(drivers: readonly VulkanDriver[]): string[] | null {
  if (!drivers.length || drivers.some((d) => d.software === null)) return null;
  return [...new Set(drivers.map((d) => d.software!))];
}

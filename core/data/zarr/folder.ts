// Telling a Zarr folder (an OME-Zarr image is a folder, not a file) by its group metadata at the root.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** True for a folder holding Zarr metadata (.zattrs, .zgroup or zarr.json) at its root. */
export async function isZarrFolder(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
  } catch {
    return false;
  }
  for (const name of ['zarr.json', '.zattrs', '.zgroup']) {
    const s = await stat(join(path, name)).catch(() => null);
    if (s?.isFile()) return true;
  }
  return false;
}

// A project made through the core, as the app would make it, before a host serves it: created, the
// images imported and their caches built, closed again. Returns the imported images (ids for the test).
import type { ImageEntry } from '../../core/common/api.js';
import { AppService, rootAssetUrls } from '../../core/app/service.js';

export async function createImportedProject(projectDir: string, paths: readonly string[], homeDir: string): Promise<ImageEntry[]> {
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir });
  try {
    await service.createProject(projectDir);
    await service.importPaths([...paths]);
    await service.idle();
    return (await service.currentProject())?.images ?? [];
  } finally {
    await service.close();
  }
}

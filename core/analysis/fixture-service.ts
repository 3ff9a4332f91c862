// Test support: a real AppService on a new project holding `paths` as images, with synthetic features
// (fixture.ts) for them in mosaic order. Used by the analysis tests.
import { join } from 'node:path';
import { AppService, rootAssetUrls } from '../app/service.js';
import { writeSyntheticFeatures, type MosaicSpec } from './fixture.js';

export async function analysisProject(root: string, paths: readonly string[], spec: MosaicSpec): Promise<{ service: AppService; ids: string[] }> {
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
  await service.createProject(join(root, 'project'));
  await service.importPaths([...paths]);
  await service.idle();
  const images = (await service.currentProject())!.images;
  const ids = paths.map((p) => images.find((i) => i.path === p)!.id);
  await writeSyntheticFeatures(service.requireProject(), ids, spec);
  return { service, ids };
}

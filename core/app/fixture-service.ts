// Test support: a real AppService on a new project (root/project, DINOSCOPE_HOME root/home) holding
// `paths` as images, optionally with synthetic features (fixture.ts) for them in mosaic order. Used by the
// analysis tests and the analysis e2e tests.
import { join } from 'node:path';
import { AppService, rootAssetUrls } from './service.js';
import { writeSyntheticFeatures, type MosaicSpec } from '../analysis/fixture.js';

/** The project's image ids and names in `paths` order. */
export async function importedProject(
  root: string,
  paths: readonly string[],
): Promise<{ service: AppService; ids: string[]; names: string[] }> {
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
  await service.createProject(join(root, 'project'));
  await service.importPaths([...paths]);
  await service.idle();
  const images = (await service.currentProject())!.images;
  const entries = paths.map((p) => images.find((i) => i.path === p)!);
  return { service, ids: entries.map((e) => e.id), names: entries.map((e) => e.name) };
}

/** importedProject with synthetic features written for every image. */
export async function analysisProject(
  root: string,
  paths: readonly string[],
  spec: MosaicSpec,
): Promise<{ service: AppService; ids: string[] }> {
  const p = await importedProject(root, paths);
  await writeSyntheticFeatures(p.service.requireProject(), p.ids, spec);
  return p;
}

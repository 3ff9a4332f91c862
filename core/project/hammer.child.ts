// A child process for project.test.ts (forked with tsx): writes `count` updates of one kind into a
// project's project.json as fast as it can, starting when the parent says go, so that several children
// race. Modes: `update` goes through Project.update (the lock + re-read protocol); `naive` reads, changes
// and writes the whole document without the lock, as Project.open + change + save() used to.
// argv: <projectDir> <run|feature|image> <count> <update|naive> <tag>
// or:   <projectDir> hold <ms> — takes the project lock, says 'locked', holds it <ms>, releases, exits.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { acquireLock, releaseLock } from './lock.js';
import { PROJECT_FILE, Project } from './project.js';
import type { ProjectFile, StoredFeatureSet, StoredImage } from './schema.js';

const [dir, kind, countArg, mode, tag] = process.argv.slice(2);
const count = Number(countArg);

function item(i: number): { run?: { name: string; step: number }; feature?: StoredFeatureSet; image?: StoredImage } {
  const id = `${tag}-${i}`;
  const at = new Date(0).toISOString();
  if (kind === 'run') return { run: { name: id, step: i } };
  if (kind === 'feature')
    return {
      feature: {
        id,
        modelId: 'm',
        modelConfigHash: 'h',
        mpp: null,
        level: 0,
        dim: 8,
        dir: `features/${id}`,
        images: [],
        createdAt: at,
        updatedAt: at,
      },
    };
  return { image: { id, path: `/nowhere/${id}.png`, name: `${id}.png`, bytes: i, mtime: 0, status: 'ok', addedAt: at } };
}

async function once(project: Project, i: number): Promise<void> {
  const x = item(i);
  if (mode === 'update') {
    // The app's open Project and a fresh open alternate: both must keep every other writer's change.
    const target = i % 2 === 0 ? project : await Project.open(dir);
    await target.update((p) => {
      if (x.run) p.upsertRun(x.run);
      if (x.feature) p.upsertFeatureSet(x.feature);
      if (x.image) p.upsert(x.image);
    });
    return;
  }
  const file = join(dir, PROJECT_FILE);
  const doc = JSON.parse(await readFile(file, 'utf8')) as ProjectFile;
  if (x.run) doc.runs.push(x.run);
  if (x.feature) doc.features.push(x.feature);
  if (x.image) doc.images.push(x.image);
  await writeFileAtomic(file, JSON.stringify(doc, null, 2) + '\n');
}

process.on('message', (m: unknown) => {
  if (m !== 'go') return;
  if (kind === 'hold') {
    const file = join(dir, PROJECT_FILE);
    void acquireLock(file).then((holder) => {
      process.send?.('locked');
      setTimeout(() => void releaseLock(file, holder).then(() => process.send?.('released', () => process.exit(0))), count);
    });
    return;
  }
  void (async () => {
    const project = await Project.open(dir);
    for (let i = 0; i < count; i++) await once(project, i);
    process.send?.('done', () => process.exit(0));
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
});
process.send?.('ready');

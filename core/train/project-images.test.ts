import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Project } from '../project/project.js';
import type { StoredImage } from '../project/schema.js';
import { trainingImages } from './project-images.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-train-project-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trainingImages', () => {
  it('lists the ok images, reading pyramid caches where they exist, with their thumbnails and tissue-mask caches', async () => {
    const project = await Project.create(join(dir, 'p'));
    const base = { bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() };
    const images: StoredImage[] = [
      { ...base, id: 'a', path: '/data/a.png', name: 'a.png', status: 'ok' },
      { ...base, id: 'b', path: '/data/b.tif', name: 'b.tif', status: 'ok', pyramidCache: 'cache/pyramids/b.tif' },
      { ...base, id: 'c', path: '/data/c.png', name: 'c.png', status: 'missing' },
      { ...base, id: 'd', path: '/data/d.tif', name: 'd.tif', status: 'caching' },
    ];
    await project.update((p) => images.forEach((img) => p.upsert(img)));
    expect(trainingImages(project)).toEqual([
      { id: 'a', path: '/data/a.png', thumbnail: project.thumbnailPath('a'), tissueMask: project.tissueMaskPath('a') },
      {
        id: 'b',
        path: join(project.dir, 'cache/pyramids/b.tif'),
        thumbnail: project.thumbnailPath('b'),
        tissueMask: project.tissueMaskPath('b'),
      },
    ]);
  });
});

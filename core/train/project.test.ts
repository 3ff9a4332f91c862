// A run on a real project: a PNG written with sharp, the project's crop workers, one training step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Project } from '../project/project.js';
import { trainConfig } from './config.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-train-project-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Trainer.forProject', () => {
  it('trains on a project image through the crop workers and resumes from a checkpoint at its step', async () => {
    const S = 256;
    const px = Buffer.alloc(S * S * 3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) px.set([(x * 3) % 256, (y * 5) % 256, ((x ^ y) * 7) % 256], (y * S + x) * 3);
    const file = join(dir, 'texture.png');
    await sharp(px, { raw: { width: S, height: S, channels: 3 } })
      .png()
      .toFile(file);
    const project = await Project.create(join(dir, 'p'));
    await project.update((p) =>
      p.upsert({ id: 'a', path: file, name: 'texture.png', status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
    );
    const cfg = trainConfig('quick', {
      steps: 10,
      batchSize: 2,
      model: {
        size: 'tiny',
        vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } },
        from: null,
      },
      crops: { globalSize: 32, localSize: 16, localCrops: 2 },
      head: { prototypes: 32, hidden: 32, bottleneck: 16 },
      runtime: { threads: 1 },
    });
    const tr = await Trainer.forProject(cfg, project);
    const r = await tr.step();
    expect(r.step).toBe(1);
    expect(r.signals.nan).toBe(false);
    const ck = join(dir, 'ck');
    await tr.checkpoint(ck);
    await tr.close();
    const again = await Trainer.resumeProject(ck, project);
    expect(again.completedSteps).toBe(1);
    expect((await again.step()).step).toBe(2);
    await again.close();
  }, 60_000);
});

// A run on a real project: a PNG written with sharp, the project's crop workers, one training step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainConfig } from './config.js';
import { Trainer } from './trainer.js';
import { textureProject } from './fixtures/texture-project.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-train-project-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Trainer.forProject', () => {
  it('trains on a project image through the crop workers and resumes from a checkpoint at its step', async () => {
    const project = await textureProject(dir, join(dir, 'p'));
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

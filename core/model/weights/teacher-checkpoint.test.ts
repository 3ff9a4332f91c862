// The teacher checkpoints the official trainers write (teacher_checkpoint.pth under output/eval/…, what
// `dinoscope export-training`'s README tells the user to import), in both key layouts, written by
// torch.save from Debian's python3-torch (scripts/fixtures/teacher_checkpoint_fixture.py): DINOv2's
// {"teacher": {"backbone.blocks.<chunk>.<i>.…", "dino_head.…"}} with FSDP block chunks, and DINOv3's
// {"teacher": {"backbone.…" (storage tokens, RoPE periods, the masked key bias), "dino_head.…", "ibot_head.…"}}.
// Each imports, with no config.json beside it (as the trainers leave it), as exactly the backbone it was
// made from; the heads are left out.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry } from '../../jobs/registry.js';
import { vitConfig, type ViTConfig } from '../config.js';
import { hasTorch as torchInstalled } from '../fixtures/has-torch.js';
import { ModelManager } from '../manager/manager.js';
import { initParams } from '../params.js';
import { exportWeights } from './export.js';
import { loadWeights } from './import.js';
import type { WeightTensor } from './safetensors.js';

const SCRIPT = join(import.meta.dirname, '../../../scripts/fixtures/teacher_checkpoint_fixture.py');
const hasTorch = torchInstalled();

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-teacher-ckpt-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

// 128 wide: the importer takes 64-wide heads (2) as for every released model, with no config.json.
const CONFIGS: Record<'dinov2' | 'dinov3', ViTConfig> = {
  dinov2: vitConfig('tiny', { arch: 'dinov2', dim: 128, heads: 2, depth: 4, patchSize: 8, registers: 4, posEmbed: { gridSize: 4 } }),
  dinov3: vitConfig('tiny', { arch: 'dinov3', dim: 128, heads: 2, depth: 3, patchSize: 8, registers: 4 }),
};

describe.skipIf(!hasTorch)("the official trainers' teacher_checkpoint.pth", () => {
  it.each(['dinov2', 'dinov3'] as const)(
    '%s: imports as the backbone it was made from, heads left out',
    async (recipe) => {
      const cfg = CONFIGS[recipe];
      const weights = new Map<string, WeightTensor>(
        Object.entries(initParams(cfg, 21)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
      );
      const src = join(root, `${recipe}-src`);
      await exportWeights(src, cfg, weights, 'original');
      const out = join(root, `${recipe}-run`, 'eval', recipe === 'dinov2' ? 'training_99' : '99');
      await mkdir(out, { recursive: true });
      const env = { ...process.env };
      delete env.OPENBLAS_CORETYPE;
      const r = spawnSync('/usr/bin/python3', [SCRIPT, recipe, join(src, 'model.safetensors'), join(out, 'teacher_checkpoint.pth')], {
        encoding: 'utf8',
        env,
      });
      expect(r.status, r.stderr).toBe(0);
      // The keys torch.load reads back from the file (the fixture prints them).
      const keys = r.stdout.split('\n');
      // The official layouts: chunked DINOv2 blocks; DINOv3's buffers and second head.
      if (recipe === 'dinov2') expect(keys).toContain('backbone.blocks.1.3.attn.qkv.weight');
      else
        expect(keys).toEqual(
          expect.arrayContaining([
            'backbone.storage_tokens',
            'backbone.rope_embed.periods',
            'backbone.blocks.2.attn.qkv.bias_mask',
            'ibot_head.mlp.0.weight',
          ]),
        );

      const manager = new ModelManager({
        projectDir: () => null,
        jobs: new JobRegistry(),
        userDir: join(root, `models-${recipe}`),
        defaultToken: () => undefined,
      });
      const info = await manager.importPath(join(out, 'teacher_checkpoint.pth'), { name: `${recipe} cluster` });
      expect(info).toMatchObject({ arch: recipe, dim: 128, heads: 2, depth: cfg.depth, registers: 4, patchSize: 8 });
      const imported = await loadWeights(join(info.path, 'model.safetensors'));
      const original = await loadWeights(join(src, 'model.safetensors'), { configJson: null });
      expect([...imported.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
      for (const [name, t] of original.tensors) {
        const got = imported.tensors.get(name)!;
        expect(got.shape, name).toEqual(t.shape);
        expect(
          Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
          name,
        ).toBe(true);
      }
    },
    120_000,
  );
});

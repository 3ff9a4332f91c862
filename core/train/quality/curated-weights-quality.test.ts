// Does pretraining on the curated set lift the rare textures? On the skewed collection (skewed-collection.ts:
// 8 images, texture 0 on ≈ 91 % of the tissue, three rare textures on ≈ 3 % each), `curate`'s default set —
// every distinct tile, drawn with sampling weights that give each top-level cluster an equal share
// (core/features/curation/weights.ts) — against uniform sampling of every image's tissue, both from scratch
// for the same 320 steps and seed (curation-compare.ts: the pretraining quality test's small ViT and
// settings). Same-texture precision@10 on held-out balanced mosaics with the rare textures' patches as queries:
// the weighted set beats uniform sampling by LIFT.
// Measured (bench/curation.bench.ts, deterministic runs): seed 0 uniform 0.675 → weighted 0.778 (+0.103),
// seed 1 0.609 → 0.684 (+0.075), seed 2 0.581 → 0.639 (+0.058); texture 0's own p@10 rose too (0.632 → 0.872,
// 0.609 → 0.660, 0.546 → 0.744). A fixed balanced subset of 32 tiles did not lift (core/features/curation/README.md).
// CURQ_SEED reruns it with another seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curate } from '../../features/curation/curate.js';
import { curationConfig, trainAndScore } from './curation-compare.js';
import { SKEWED_TILE_PATCHES, skewedProject } from './skewed-collection.js';

const SEED = Number(process.env.CURQ_SEED ?? 0);
const STEPS = 320;
const LIFT = 0.05;

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-curated-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('curated sampling weights on a skewed collection', () => {
  it(`lift rare-texture precision@10 over uniform sampling for the same ${STEPS} steps`, async () => {
    const { project } = await skewedProject(dir, 8);
    const s = await curate(project, { set: 'textures', tilePatches: SKEWED_TILE_PATCHES, levels: [12, 4], dedupThreshold: 0.999 });
    expect(s.picked).toBe(s.candidates - s.duplicates); // every distinct tile kept
    const uniform = await trainAndScore(project, curationConfig(SEED, STEPS, null));
    const weighted = await trainAndScore(project, curationConfig(SEED, STEPS, 'curated'));
    process.stderr.write(
      `curated sampling weights (seed ${SEED}, ${STEPS} steps): rare-texture p@10 uniform ${uniform.rare.toFixed(3)}, weighted ${weighted.rare.toFixed(3)}; ` +
        `texture 0 ${uniform.common.toFixed(3)}, ${weighted.common.toFixed(3)} (${uniform.seconds.toFixed(0)} s + ${weighted.seconds.toFixed(0)} s)\n`,
    );
    expect(weighted.rare).toBeGreaterThan(uniform.rare + LIFT);
  }, 400_000);
});

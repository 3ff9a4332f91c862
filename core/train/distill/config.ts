// What a distillation run is (recipe §7, dinov3/train/multidist_meta_arch.py): one frozen teacher, one or more
// students of the preset sizes trained on the same teacher forward. The run's TrainConfig (crops, batch,
// schedules, losses) is shared by every student; each student differs only in its ViT.
import { DinoscopeError } from '../../common/errors.js';
import { type ViTConfig, type ViTOverrides, vitConfig } from '../../model/config.js';
import { paramCount } from '../../model/params.js';
import { type Overrides, type PresetName, type TrainConfig, RECIPE_LAYER_LR, trainConfig } from '../config.js';

/** The sizes a student may have (registers kept: the teacher's register count). */
export const STUDENT_SIZES = ['tiny', 'small', 'base'] as const;
export type StudentSize = (typeof STUDENT_SIZES)[number];

export interface StudentSpec {
  size: StudentSize;
  /** ViT overrides on top of the size (tests use narrow models); patch size, arch and registers default to the teacher's. */
  vit?: ViTOverrides;
}

/**
 * The recipe's distillation settings over any preset (recipe §7): Sinkhorn-Knopp targets at τ_t 0.07 from the
 * first step (the teacher is trained, there is nothing to warm up), no Gram anchoring. The student's EMA
 * (the model a run saves) follows the preset's momentum schedule.
 */
export const DISTIL_OVERRIDES: Overrides = {
  teacher: { centering: 'sinkhorn', tempStart: 0.07, temp: 0.07 },
  gram: { enabled: false },
  // A deviation: feature regression of the students' patch tokens on the teacher's (feature-loss.ts), beside
  // the recipe's DINO + iBOT + KoLeo. On the quality fixture with teachers that have learned (600 steps, six
  // seeds) it lifted the distilled Tiny over the scratch Tiny by +0.125 in the mean (the recipe alone +0.047)
  // with no seed below scratch, and the wider student of a two-student run on every seed (README.md).
  loss: { featureDistil: 5 },
  // The recipe's layer-wise lr decay and patch-embedding lr (§5): the students are full-depth ViTs, and the
  // feature regression was measured with them (the Quick preset turns both off for its 6-block model).
  optim: RECIPE_LAYER_LR,
};

/** The run's shared config: `preset` with the distillation settings, then the caller's overrides (strict). A
 * caller that turns the patch-similarity term on (loss.patchSim, the other form of a teacher-token term) gets
 * the feature regression off unless it sets loss.featureDistil itself. */
export function distilConfig(preset: PresetName, overrides: Record<string, unknown> = {}): TrainConfig {
  const loss = (overrides.loss ?? {}) as Record<string, unknown>;
  const featureDistil = (loss.patchSim as number) > 0 ? 0 : DISTIL_OVERRIDES.loss!.featureDistil;
  const merged = trainConfig(preset, {
    ...overrides,
    teacher: { ...DISTIL_OVERRIDES.teacher, ...(overrides.teacher as object) },
    optim: { ...DISTIL_OVERRIDES.optim, ...(overrides.optim as object) },
    loss: { featureDistil, ...loss },
  });
  if (merged.gram.enabled)
    throw new DinoscopeError('BAD_INPUT', 'Distillation: Gram anchoring is not part of the distillation recipe; leave gram.enabled off.');
  if (merged.teacher.centering !== 'sinkhorn')
    throw new DinoscopeError('BAD_INPUT', 'Distillation: the targets use Sinkhorn-Knopp (recipe §7); teacher.centering must be sinkhorn.');
  if (merged.stage !== 'pretrain') throw new DinoscopeError('BAD_INPUT', 'Distillation: stage must be pretrain.');
  return merged;
}

/** "tiny,small" → specs; BAD_INPUT on an unknown or repeated size. */
export function parseStudents(list: string): StudentSpec[] {
  const sizes = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (!sizes.length) throw new DinoscopeError('BAD_INPUT', `--student: name at least one size (${STUDENT_SIZES.join(', ')}).`);
  for (const s of sizes)
    if (!(STUDENT_SIZES as readonly string[]).includes(s))
      throw new DinoscopeError('BAD_INPUT', `--student: unknown size "${s}" (${STUDENT_SIZES.join(', ')}).`);
  if (new Set(sizes).size !== sizes.length) throw new DinoscopeError('BAD_INPUT', `--student: each size once ("${list}").`);
  return sizes.map((size) => ({ size: size as StudentSize }));
}

/**
 * A student's ViT: the preset size with the teacher's arch, patch size, registers and position encoding.
 * Refused: a patch size other than the teacher's (the iBOT targets are the teacher's tokens at the same patch
 * positions: the recipe distils at equal patch size; images are the same crops for both, so equal patch size
 * also means equal grids), and a student that is not smaller than its teacher.
 */
export function studentViT(teacher: ViTConfig, s: StudentSpec): ViTConfig {
  const over = s.vit ?? {};
  if (over.patchSize !== undefined && over.patchSize !== teacher.patchSize)
    throw new DinoscopeError(
      'BAD_INPUT',
      `Distillation: the student's patch size ${over.patchSize} differs from the teacher's ${teacher.patchSize}. ` +
        `DINOv3 distillation matches patch tokens position by position, so the student takes the teacher's patch size: leave it unset.`,
    );
  const vit = vitConfig(s.size, {
    arch: teacher.arch,
    patchSize: teacher.patchSize,
    registers: teacher.registers,
    inChans: teacher.inChans,
    posEmbed: teacher.posEmbed ? { ...teacher.posEmbed } : null,
    ...(teacher.rope ? { rope: { ...teacher.rope, augment: { ...teacher.rope.augment } } } : {}),
    ...over,
  });
  if (paramCount(vit) >= paramCount(teacher))
    throw new DinoscopeError(
      'BAD_INPUT',
      `Distillation: a ${s.size} student (${(paramCount(vit) / 1e6).toFixed(1)} M parameters) is not smaller than the teacher ` +
        `(${(paramCount(teacher) / 1e6).toFixed(1)} M). Pick a smaller student size, or a bigger teacher.`,
    );
  return vit;
}

/** The crop sides of `c` rounded to multiples of `patch` (at least one patch), for sides the user did not give. */
export function fitCrops(c: TrainConfig, patch: number, given: Record<string, unknown> = {}): Record<string, number> {
  const fit = (s: number): number => Math.max(patch, Math.round(s / patch) * patch);
  const out: Record<string, number> = {};
  for (const k of ['globalSize', 'localSize'] as const) if (!(k in given) && c.crops[k] % patch) out[k] = fit(c.crops[k]);
  return out;
}

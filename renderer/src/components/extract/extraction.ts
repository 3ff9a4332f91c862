// The Extract panel's starting resolution and its estimate line. The resolution starts at the active
// feature set's, so a new run adds to it; with no set, at 2 µm/px (the demo's analysis resolution,
// about 5× objective) when every image states its µm/px, else, for slide-sized images (over
// SLIDE_SIDE px a side), at the pyramid level nearest a 4× downsample: level 0 of a slide is 16× the
// patches of that, for most analyses no better. Smaller images start at level 0 (their lower levels are
// mere halvings, too coarse for a patch grid).
import type { ExtractEstimate, ProjectSummary } from '../../../../core/common/api.js';

/** µm per pixel the panel suggests when nothing else says (the demo's). */
export const ANALYSIS_MPP = 2;
/** Longest side above which an image without µm/px is treated as a slide. */
export const SLIDE_SIDE = 8192;

export interface StartResolution {
  mode: 'mpp' | 'level';
  mpp: number;
  level: number;
}

export function defaultResolution(project: ProjectSummary | null): StartResolution {
  const active = project?.featureSets?.find((s) => s.active);
  if (active?.level !== undefined && active.level !== null) return { mode: 'level', mpp: ANALYSIS_MPP, level: active.level };
  if (active?.mpp !== undefined && active.mpp !== null) return { mode: 'mpp', mpp: active.mpp, level: 0 };
  const images = (project?.images ?? []).filter((i) => i.status === 'ok' && i.meta);
  if (images.length && images.every((i) => i.meta!.mpp)) {
    // Never finer than the coarsest scan (a finer µm/px than the file's is refused).
    const coarsest = Math.max(...images.map((i) => i.meta!.mpp!));
    return { mode: 'mpp', mpp: Math.max(ANALYSIS_MPP, Number(coarsest.toPrecision(3))), level: 0 };
  }
  const first = images[0]?.meta;
  let level = 0;
  if (first && Math.max(first.width, first.height) > SLIDE_SIDE) {
    first.levels.forEach((l, i) => {
      if (l.downsample <= 4 * (1 + 1e-6)) level = i;
    });
  }
  return { mode: 'level', mpp: ANALYSIS_MPP, level };
}

/** The images an extraction by µm/px reads at level 0 because they state no µm/px, in a sentence; null when none. */
export function fallbackText(e: ExtractEstimate): string | null {
  const names = e.grids.filter((g) => g.fallbackLevel !== undefined).map((g) => g.name);
  if (names.length === 0) return null;
  if (names.length === 1) return `${names[0]} states no µm per pixel: it is extracted at level 0 (its own pixels).`;
  const listed = names.length > 3 ? `${names.slice(0, 3).join(', ')}, …` : names.join(', ');
  return `${names.length} images state no µm per pixel (${listed}): they are extracted at level 0 (their own pixels).`;
}

/** "about 40 s", "about 3 min", "about 2.5 h". */
export function durationText(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds < 90) return `about ${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

export function estimateText(e: ExtractEstimate): string {
  if (e.images === 0) return 'No image can be extracted at this resolution.';
  const done = e.done ? ` (${e.done} already done)` : '';
  if (e.patches === 0) return `All ${e.images} image${e.images > 1 ? 's are' : ' is'} already extracted in ${e.featureSet}: nothing to do.`;
  const from = {
    measured: "measured in this project's last run of this model",
    scaled: `scaled from this project's last run of ${e.rateModel ?? 'another model'}`,
    estimated: "estimated from the model's size",
  }[e.rateFrom];
  const rate = `${Math.round(e.patchesPerSecond).toLocaleString('en-US')} patches/s on ${e.device}, ${from}`;
  // The per-channel route runs each patch through the model once per channel: the time says so.
  const passes = e.passesPerPatch ? ` (per-channel: each patch through the model ${e.passesPerPatch} times)` : '';
  return `${e.patches.toLocaleString('en-US')} patches in ${e.images - e.done} image${e.images - e.done > 1 ? 's' : ''}${done}: ${durationText(e.seconds)}${passes} at ${rate}; less where background is skipped.`;
}

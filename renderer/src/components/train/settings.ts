// The setup form of the Train panel and how it becomes TrainStartOptions: the advanced fields that differ
// from the chosen preset go out as strict config overrides (core/train/config.ts keys), deep-merged with
// the optional extra-overrides JSON.
import type { TrainPresetInfo, TrainStage, TrainStartOptions } from '../../../../core/common/api.js';

/** The advanced settings a user may change (each defaults to the preset's value). */
export interface AdvancedSettings {
  batchSize: number;
  globalSize: number;
  localSize: number;
  localCrops: number;
  prototypes: number;
  baseLr: number;
  registers: number;
  /** null: the preset's seed. */
  seed: number | null;
}

export interface TrainForm {
  stage: TrainStage;
  preset: string;
  /** A model id, or null: from scratch (pretrain only). */
  from: string | null;
  budget: 'steps' | 'minutes';
  steps: number;
  minutes: number;
  advanced: AdvancedSettings;
  /** Extra overrides as JSON text ('' for none). */
  extra: string;
  name: string;
  /** A curated tile list to sample from (config data.tiles), or null: the tissue of every image, uniformly. */
  tiles: string | null;
}

/** The model a run starts from, as far as the form's defaults depend on it; null: from scratch. */
export interface StartModel {
  patchSize: number;
}

/** A crop side as a multiple of the patch size, at least one patch (as core/train/route.ts fits them). */
export function fitToPatch(side: number, patch: number): number {
  return side % patch ? Math.max(patch, Math.round(side / patch) * patch) : side;
}

/** The preset's advanced settings for a run from `start` (null: from scratch): a pretrain run from a model
 * takes the continued-pretraining lr and crop sides fitted to the model's patch size. */
export function advancedFromPreset(p: TrainPresetInfo, start: StartModel | null = null): AdvancedSettings {
  const s = p.settings;
  const continued = start !== null && p.stage === 'pretrain';
  return {
    batchSize: s.batchSize,
    globalSize: continued ? fitToPatch(s.globalSize, start.patchSize) : s.globalSize,
    localSize: continued ? fitToPatch(s.localSize, start.patchSize) : s.localSize,
    localCrops: s.localCrops,
    prototypes: s.prototypes,
    baseLr: continued ? (s.continuedBaseLr ?? s.baseLr) : s.baseLr,
    registers: s.registers,
    seed: null,
  };
}

type Json = Record<string, unknown>;

const isPlain = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `b` merged into a copy of `a`, objects key by key, everything else replaced. */
export function deepMerge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Json, v) : v;
  return out;
}

/** Parses the extra-overrides field: {} for blank, else a JSON object; throws a sentence otherwise. */
export function parseExtra(text: string): Json {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`Extra overrides are not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlain(v)) throw new Error('Extra overrides must be a JSON object, e.g. {"optim": {"minLr": 1e-6}}.');
  return v;
}

/** The overrides for the advanced fields that differ from the preset's defaults for a run from `start`
 * (registers only from scratch). */
export function advancedOverrides(adv: AdvancedSettings, preset: TrainPresetInfo, start: StartModel | null): Json {
  const fromScratch = start === null;
  const d = advancedFromPreset(preset, start);
  let o: Json = {};
  const put = (part: Json): void => {
    o = deepMerge(o, part);
  };
  if (adv.batchSize !== d.batchSize) put({ batchSize: adv.batchSize });
  if (adv.globalSize !== d.globalSize) put({ crops: { globalSize: adv.globalSize } });
  if (adv.localSize !== d.localSize) put({ crops: { localSize: adv.localSize } });
  if (adv.localCrops !== d.localCrops) put({ crops: { localCrops: adv.localCrops } });
  if (adv.prototypes !== d.prototypes)
    put(preset.objective === 'capi' ? { capi: { prototypes: adv.prototypes } } : { head: { prototypes: adv.prototypes } });
  if (adv.baseLr !== d.baseLr) put({ optim: { baseLr: adv.baseLr } });
  if (fromScratch && adv.registers !== d.registers) put({ model: { vit: { registers: adv.registers } } });
  if (adv.seed !== null && Number.isFinite(adv.seed)) put({ seed: adv.seed });
  return o;
}

/** The API options of a filled-in form (throws on bad extra JSON); `start` is the chosen model (by default
 * one of the preset's patch size when the form names one). */
export function startOptions(form: TrainForm, preset: TrainPresetInfo, start?: StartModel | null): TrainStartOptions {
  const model = start !== undefined ? start : form.from === null ? null : { patchSize: preset.settings.patchSize };
  const tiles = form.tiles ? { data: { tiles: form.tiles } } : {};
  const overrides = deepMerge(deepMerge(advancedOverrides(form.advanced, preset, model), tiles), parseExtra(form.extra));
  return {
    stage: form.stage,
    preset: form.preset,
    from: form.from,
    ...(form.budget === 'steps' ? { steps: form.steps } : { minutes: form.minutes }),
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(form.name.trim() ? { name: form.name.trim() } : {}),
  };
}

/** Which advanced fields hold a value the form cannot send (non-positive, not whole, crops not fitting). */
export function advancedProblems(adv: AdvancedSettings): string[] {
  const out: string[] = [];
  const whole = (v: number, what: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) out.push(`${what} must be a whole number ≥ ${min}`);
  };
  whole(adv.batchSize, 'Batch size', 1);
  whole(adv.globalSize, 'Global crop size', 8);
  whole(adv.localSize, 'Local crop size', 8);
  whole(adv.localCrops, 'Local crops', 0);
  whole(adv.prototypes, 'Prototypes', 2);
  whole(adv.registers, 'Registers', 0);
  if (!(adv.baseLr > 0)) out.push('Base lr must be positive');
  if (adv.seed !== null && !Number.isInteger(adv.seed)) out.push('Seed must be a whole number');
  return out;
}

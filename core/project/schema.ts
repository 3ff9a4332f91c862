// project.json: a versioned schema, validated on load. Every problem is reported as one sentence naming
// the file and the field, so a hand-edited or damaged project explains itself.
import type { ChannelDisplay, ImageMetadata, ImageStatus, MaskSetting, MaskUsed } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { FeatureInput } from '../common/feature-input.js';

export const PROJECT_SCHEMA = 'dinoscope-project';
export const PROJECT_VERSION = 1;

export interface StoredImage {
  id: string;
  path: string;
  name: string;
  bytes: number;
  /** Modification time of the source at import, ms since the epoch. */
  mtime: number;
  status: ImageStatus;
  reason?: string;
  /** What the file states (its reader's metadata); meta.mpp stays the file's own value. */
  meta?: ImageMetadata;
  /** µm per pixel at level 0 stated by the user for an image whose file states none (core/data/resolution.ts
   * withStatedMpp: used wherever the file's own would be). */
  statedMpp?: number;
  /** Tiled pyramid cache built for a large non-pyramidal image, relative to the project folder. */
  pyramidCache?: string;
  /** How a multi-channel image is shown (setChannelDisplay), one entry per channel; absent: the defaults. */
  channelDisplay?: ChannelDisplay[];
  addedAt: string;
}

/** One image's part of a feature set (core/features/extract). */
export interface StoredFeatureImage {
  imageId: string;
  /** The image's feature store (Zarr group), relative to the project folder. */
  store: string;
  gridWidth: number;
  gridHeight: number;
  complete: boolean;
  /** Tissue patches added to the feature set's search index. */
  indexedRows: number;
  tissuePatches: number;
  /** Context the features saw (core/features/extract/context.ts); absent in sets made before it was recorded. */
  context?: 'whole' | 'tiled';
  /** Foreground mask the image was extracted with ('auto' resolved); absent in sets made before masks
   * were choosable (those used 'brightfield'). */
  mask?: MaskUsed;
}

/** Dense features of the collection for one model at one resolution (core/features/extract). */
export interface StoredFeatureSet {
  id: string;
  modelId: string;
  modelConfigHash: string;
  /** The requested resolution: µm per pixel, or a pyramid level when mpp is null. */
  mpp: number | null;
  level: number | null;
  dim: number;
  /** The features are a dino.txt vision head's patch embeddings: text queries can score them. */
  textAligned?: boolean;
  /** When the model's dino.txt tower it was extracted with was attached (dinotxt.json `attached`): text
   * queries refuse the set once the model's tower changed (aligned or attached again). Absent in sets
   * made before it was recorded, which are not checked. */
  textAttached?: string;
  /** Folder holding the stores and index/, relative to the project folder. */
  dir: string;
  images: StoredFeatureImage[];
  /** Context of its images: 'mixed' when runs chose differently (compare features within one context). */
  context?: 'whole' | 'tiled' | 'mixed';
  /** Foreground mask setting the set is extracted with (core/common/foreground-mask.ts); absent: 'auto'. */
  mask?: MaskSetting;
  /** Speed of its latest completed extraction run, for the Extract panel's time estimate. */
  speed?: { provider: string; patchesPerSecond: number; at: string };
  /** How a multi-channel collection became model input (core/features/extract/input.ts); absent: RGB. */
  input?: FeatureInput;
  /** Where its search index is searched from, as dinoscope index last chose (absent: in memory). */
  indexStore?: { store: 'memory' | 'lancedb'; reason: string };
  createdAt: string;
  updatedAt: string;
}

export interface ProjectFile {
  schema: typeof PROJECT_SCHEMA;
  version: typeof PROJECT_VERSION;
  name: string;
  createdAt: string;
  images: StoredImage[];
  /** Filled by later issues (trained models, inference runs, extracted features). */
  models: unknown[];
  runs: unknown[];
  features: StoredFeatureSet[];
  /**
   * The feature set the analyses use (core/features/sets.ts), chosen by the user or by the first completed
   * extraction. Absent in projects made before it was recorded; null after the chosen set was deleted.
   */
  activeFeatureSet?: string | null;
}

const statuses: readonly ImageStatus[] = ['ok', 'missing', 'unsupported', 'corrupt', 'caching'];

export function emptyProject(name: string): ProjectFile {
  return {
    schema: PROJECT_SCHEMA,
    version: PROJECT_VERSION,
    name,
    createdAt: new Date().toISOString(),
    images: [],
    models: [],
    runs: [],
    features: [],
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates parsed JSON as a ProjectFile; `file` names the file in error messages. */
export function validateProject(value: unknown, file: string): ProjectFile {
  const bad = (what: string): never => {
    throw new DinoscopeError('CORRUPT', `${file}: ${what}.`);
  };
  if (!isObject(value)) return bad('is not a JSON object');
  if (value.schema !== PROJECT_SCHEMA) bad(`"schema" must be "${PROJECT_SCHEMA}"`);
  if (typeof value.version !== 'number') bad('"version" must be a number');
  if (value.version !== PROJECT_VERSION) {
    throw new DinoscopeError(
      'UNSUPPORTED',
      `${file}: project version ${String(value.version)} is not supported (this Dinoscope reads version ${PROJECT_VERSION}).`,
    );
  }
  if (typeof value.name !== 'string') bad('"name" must be a string');
  if (typeof value.createdAt !== 'string') bad('"createdAt" must be a string');
  for (const key of ['images', 'models', 'runs', 'features'] as const) if (!Array.isArray(value[key])) bad(`"${key}" must be an array`);
  if (value.activeFeatureSet !== undefined && value.activeFeatureSet !== null && typeof value.activeFeatureSet !== 'string')
    bad('"activeFeatureSet" must be a feature set id or null');
  const images = (value.images as unknown[]).map((img, i) => validateImage(img, `images[${i}]`, bad));
  return { ...(value as unknown as ProjectFile), images };
}

function validateImage(v: unknown, at: string, bad: (what: string) => never): StoredImage {
  if (!isObject(v)) return bad(`${at} is not an object`);
  for (const key of ['id', 'path', 'name', 'addedAt'] as const) if (typeof v[key] !== 'string') bad(`${at}.${key} must be a string`);
  for (const key of ['bytes', 'mtime'] as const)
    if (typeof v[key] !== 'number' || !Number.isFinite(v[key])) bad(`${at}.${key} must be a number`);
  if (!statuses.includes(v.status as ImageStatus)) bad(`${at}.status must be one of ${statuses.join(', ')}`);
  if (v.reason !== undefined && typeof v.reason !== 'string') bad(`${at}.reason must be a string`);
  if (v.pyramidCache !== undefined && typeof v.pyramidCache !== 'string') bad(`${at}.pyramidCache must be a string`);
  if (v.statedMpp !== undefined && (typeof v.statedMpp !== 'number' || !(v.statedMpp > 0) || !Number.isFinite(v.statedMpp)))
    bad(`${at}.statedMpp must be a positive number of µm per pixel`);
  if (v.channelDisplay !== undefined) {
    const ok =
      Array.isArray(v.channelDisplay) &&
      v.channelDisplay.every(
        (d: unknown) =>
          isObject(d) &&
          Array.isArray(d.color) &&
          d.color.length === 3 &&
          d.color.every((c: unknown) => typeof c === 'number' && c >= 0 && c <= 255) &&
          typeof d.visible === 'boolean' &&
          typeof d.min === 'number' &&
          typeof d.max === 'number' &&
          (d.gamma === undefined || typeof d.gamma === 'number'),
      );
    if (!ok) bad(`${at}.channelDisplay must list each channel's color, visible, min and max`);
  }
  if (v.meta !== undefined) {
    const m = v.meta;
    if (!isObject(m) || typeof m.width !== 'number' || typeof m.height !== 'number' || !Array.isArray(m.levels))
      bad(`${at}.meta must hold width, height and levels`);
  }
  return v as unknown as StoredImage;
}

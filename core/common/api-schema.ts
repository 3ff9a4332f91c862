// The schema of every API method's arguments (core/common/schema.ts) and of the option objects they take.
// core/app/dispatch.ts checks each call against these before the service sees it, so every transport
// refuses a bad call the same way. The TypeScript signatures of DinoscopeApi are checked against them at
// compile time (`Mismatched` below): a method whose schema and signature disagree fails to type-check.
import { type AnalysisExportFormat, type ApiMethod, DIALOG_KINDS, type DinoscopeApi, type Role } from './api.js';
import { EXTRACT_CHANNEL_ROUTES } from './channel-routes.js';
import { MAX_CLUSTER_K, MIN_CLUSTER_K } from './clusters.js';
import { FieldError } from './errors.js';
import { MASK_SETTINGS } from './foreground-mask.js';
import { MAX_MAP_SMOOTHING } from './map-smoothing.js';
import {
  anyObject,
  args,
  array,
  boolean,
  nullable,
  number,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Infer,
  type Schema,
} from './schema.js';

const id = string();
const path = string();
const positive = number({ gt: 0 });
const level = number({ int: true, min: 0 });
const clusterK = number({ int: true, min: MIN_CLUSTER_K, max: MAX_CLUSTER_K });
/** Run names become folder names under <project>/runs/. */
export const runName = string({
  pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  patternWords: "letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-')",
  maxLength: 128,
});

/** Refuses two fields given together. */
function eitherOf<T extends object>(a: keyof T & string, b: keyof T & string): (value: T, path: string) => void {
  return (value, p) => {
    if (value[a] !== undefined && value[b] !== undefined)
      throw new FieldError(p ? `${p}.${b}` : b, `give either {${a}} or {${b}}, not both.`);
  };
}

/** ExtractOptions: dense feature extraction (core/features/extract). */
export const extractOptions = refine(
  object({
    modelId: id,
    mpp: optional(positive),
    level: optional(level),
    batch: optional(number({ int: true, min: 1, max: 256 })),
    imageIds: optional(array(id)),
    context: optional(oneOf(['auto', 'whole', 'tiled'])),
    mask: optional(oneOf(MASK_SETTINGS)),
    device: optional(oneOf(['auto', 'cpu', 'webgpu', 'cuda'])),
    channels: optional(oneOf(EXTRACT_CHANNEL_ROUTES)),
    activate: optional(boolean()),
  }),
  eitherOf('mpp', 'level'),
);

const region = object({ x: number(), y: number(), width: positive, height: positive });

export const attentionRequest = refine(
  object({ modelId: id, x: number(), y: number(), width: positive, height: positive, mpp: optional(positive), level: optional(level) }),
  eitherOf('mpp', 'level'),
);

export const similarityRequest = refine(
  object({
    imageId: id,
    points: optional(array(object({ x: number(), y: number() }), { min: 1, max: 256 })),
    rect: optional(region),
    k: optional(number({ int: true, min: 1, max: 200 })),
    featureSet: optional(id),
  }),
  (r, p) => {
    if (r.points === undefined && r.rect === undefined)
      throw new FieldError(p ? `${p}.points` : 'points', 'a similarity query needs {points} [{x, y}] or a {rect}.');
  },
);

export const textQueryRequest = object({
  text: string({ maxLength: 1000 }),
  imageId: id,
  k: optional(number({ int: true, min: 1, max: 200 })),
  featureSet: optional(id),
});

/** Neighbour smoothing of the maps, σ in patches (core/common/map-smoothing.ts). */
const mapSmoothing = number({ min: 0, max: MAX_MAP_SMOOTHING });

export const pcaOverlayOptions = object({
  foregroundThreshold: optional(nullable(number())),
  featureSet: optional(id),
  smoothing: optional(mapSmoothing),
});
export const clusterOverlayOptions = object({ smoothing: optional(mapSmoothing) });

const EXPORT_FORMATS = [
  'npy',
  'safetensors',
  'zarr',
  'png',
  'ome-tiff',
  'geojson',
  'csv',
  'qupath',
] as const satisfies readonly AnalysisExportFormat[];

/** AnalysisExportRequest: what the export writes (core/analysis/export.ts checks format against what). */
export const exportRequest = object({
  format: oneOf(EXPORT_FORMATS),
  what: optional(oneOf(['features', 'pca', 'clusters', 'similarity', 'search'])),
  imageIds: optional(array(id)),
  dir: optional(path),
  k: optional(clusterK),
  threshold: optional(number()),
  pcaThreshold: optional(nullable(number())),
  smoothing: optional(mapSmoothing),
  pixelsPerPatch: optional(number({ int: true, min: 1, max: 64 })),
});

/** The longest budget a run accepts, in steps or minutes (a week). */
export const MAX_TRAIN_STEPS = 10_000_000;
export const MAX_TRAIN_MINUTES = 7 * 24 * 60;

/** TrainExtendOptions: more steps or minutes for a finished run (its schedules re-planned). */
export const trainExtendOptions = refine(
  object({
    steps: optional(number({ int: true, min: 1, max: MAX_TRAIN_STEPS })),
    minutes: optional(number({ gt: 0, max: MAX_TRAIN_MINUTES })),
  }),
  eitherOf('steps', 'minutes'),
);

/** TrainStartOptions; `overrides` are checked key by key by core/train/config.ts (strict). */
export const trainStartOptions = refine(
  object({
    stage: optional(oneOf(['pretrain', 'adapt'])),
    preset: id,
    from: optional(nullable(id)),
    steps: optional(number({ int: true, gt: 0 })),
    minutes: optional(positive),
    overrides: optional(anyObject()),
    name: optional(runName),
  }),
  eitherOf('steps', 'minutes'),
);

/** A curated tile list's name (a file name under the project's cache/curation/). */
export const curatedName = string({
  pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  patternWords: "letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-')",
  maxLength: 64,
});

/** DistilStartOptions: the teacher's id and each student size once are checked again by core/train/distill. */
export const distilStartOptions = refine(
  object({
    teacher: id,
    students: array(oneOf(['tiny', 'small', 'base']), { min: 1, max: 3 }),
    preset: optional(id),
    steps: optional(number({ int: true, gt: 0 })),
    minutes: optional(positive),
    name: optional(runName),
    tiles: optional(curatedName),
  }),
  eitherOf('steps', 'minutes'),
);

export const modelImportOptions = object({ name: optional(string({ maxLength: 200 })), location: optional(oneOf(['project', 'user'])) });
export const modelDownloadOptions = object({
  name: optional(string({ maxLength: 200 })),
  location: optional(oneOf(['project', 'user'])),
  token: optional(string()),
  sha256: optional(string({ pattern: /^[0-9a-fA-F]{64}$/, patternWords: '64 hexadecimal digits' })),
});

export const curateRequest = object({
  set: optional(id),
  name: optional(curatedName),
  tiles: optional(number({ int: true, gt: 0 })),
  tilePatches: optional(number({ int: true, min: 1, max: 256 })),
  dedup: optional(number({ gt: 0, max: 1 })),
  levels: optional(array(number({ int: true, min: 1 }))),
  imageCap: optional(number({ gt: 0, max: 1 })),
  seed: optional(number({ int: true, min: 0 })),
});

/** AlignRequest: LiT alignment of a model's text tower (core/train/align). */
export const alignRequest = object({
  modelId: id,
  pairs: path,
  steps: optional(number({ int: true, min: 1, max: 1_000_000 })),
  batch: optional(number({ int: true, min: 2, max: 4096 })),
  lr: optional(positive),
  cropPatches: optional(number({ int: true, min: 1, max: 64 })),
  seed: optional(number({ int: true, min: 0 })),
  vocab: optional(path),
  textDim: optional(number({ int: true, min: 1, max: 4096 })),
  textDepth: optional(number({ int: true, min: 1, max: 64 })),
  textHeads: optional(number({ int: true, min: 1, max: 64 })),
  context: optional(number({ int: true, min: 2, max: 512 })),
  headBlocks: optional(number({ int: true, min: 0, max: 16 })),
});

export const demoOptions = object({ minutes: optional(positive), dir: optional(path), tiny: optional(boolean()) });

/** A stated pixel size: the bounds the readers accept from a vendor's metadata (core/data/vendor.ts). */
export const STATED_MPP_MIN = 1e-4;
export const STATED_MPP_MAX = 1e4;

/** SetImageMppRequest: a pixel size the user states for images whose files state none. */
export const setImageMppRequest = object({
  mpp: nullable(number({ min: STATED_MPP_MIN, max: STATED_MPP_MAX })),
  imageIds: optional(array(id, { min: 1 })),
});

/** An RGB colour: three whole numbers from 0 to 255 (checked as a list of three). */
const rgbColor = array(number({ int: true, min: 0, max: 255 }), { min: 3, max: 3 }) as unknown as Schema<[number, number, number]>;

/** ChannelDisplay: how one channel is drawn into a composite. */
export const channelDisplay = object({
  color: rgbColor,
  visible: boolean(),
  min: number(),
  max: number(),
  gamma: optional(number({ gt: 0, max: 10 })),
});

/** The argument schema of every method of the contract. */
export const apiSchemas = {
  appInfo: args(),
  recentProjects: args(),
  createProject: args(['path', path], ['name', optional(string({ maxLength: 200 }))]),
  openProject: args(['path', path]),
  currentProject: args(),
  importPaths: args(['paths', array(path)]),
  removeImage: args(['imageId', id]),
  setImageMpp: args(['request', setImageMppRequest]),
  listDirectory: args(['path', nullable(path)]),
  showOpenDialog: args(['kind', oneOf(DIALOG_KINDS)]),
  tileSource: args(['imageId', id]),
  channelState: args(['imageId', id]),
  channelHistograms: args(['imageId', id]),
  setChannelDisplay: args(['imageId', id], ['display', nullable(array(channelDisplay, { min: 1, max: 64 }))]),
  overlays: args(['imageId', id]),
  thumbnailUrl: args(['imageId', id]),
  cancelJob: args(['jobId', id]),
  runningJobs: args(),
  listModels: args(),
  modelCatalogue: args(),
  importModel: args(['path', path], ['options', optional(modelImportOptions)]),
  downloadModel: args(['source', string()], ['options', optional(modelDownloadOptions)]),
  deleteModel: args(['id', id]),
  extractFeatures: args(['options', extractOptions]),
  extractEstimate: args(['options', extractOptions]),
  setActiveFeatureSet: args(['id', id]),
  deleteFeatureSet: args(['id', id]),
  attentionMaps: args(['imageId', id], ['request', attentionRequest]),
  similarityQuery: args(['request', similarityRequest]),
  similarityHeatmap: args(['imageId', id]),
  textQuery: args(['request', textQueryRequest]),
  pcaOverlay: args(['imageId', id], ['options', optional(pcaOverlayOptions)]),
  clusterOverlay: args(['imageId', id], ['k', clusterK], ['options', optional(clusterOverlayOptions)]),
  clusterRegions: args(['clusterId', number({ int: true, min: 0 })]),
  exportAnalysis: args(['request', exportRequest]),
  trainPresets: args(),
  trainHardware: args(),
  trainEstimate: args(['options', trainStartOptions]),
  distilEstimate: args(['options', distilStartOptions]),
  startTraining: args(['options', trainStartOptions]),
  startDistillation: args(['options', distilStartOptions]),
  extendTraining: args(['run', runName], ['options', trainExtendOptions]),
  trainingRuns: args(),
  trainingHistory: args(['run', runName], ['maxSteps', optional(number({ int: true, min: 16, max: 10_000_000 }))]),
  pauseTraining: args(['run', runName]),
  resumeTraining: args(['run', runName]),
  stopTraining: args(['run', runName]),
  startDemo: args(['options', optional(demoOptions)]),
  curateTiles: args(['request', curateRequest]),
  curatedSets: args(),
  curatedSetPreview: args(['name', curatedName], ['perCluster', optional(number({ int: true, min: 1, max: 32 }))]),
  alignEstimate: args(['request', alignRequest]),
  alignText: args(['request', alignRequest]),
} as const satisfies Record<ApiMethod, Schema<unknown[]>>;

/**
 * What each method of the contract does to what others share, for the two tokens of a serve host
 * (core/serve): 'read' methods are open to the viewer token, 'write' methods to the editor token only
 * (core/app/dispatch.ts refuses them with FORBIDDEN). 'read' means it changes neither the project's files
 * nor the host's (computing a search, heatmap or map for the caller is a read); 'write' changes the
 * project, its models or settings, starts or stops long work (training, extraction, the demo), writes
 * files on the host, or browses the host's folders. A new method must be marked here: a method without a
 * mark fails to compile, and core/serve/roles.test.ts calls each one with the viewer token.
 */
export const apiAccess = {
  appInfo: 'read',
  recentProjects: 'read',
  createProject: 'write',
  // Switches the project every browser of the host shows.
  openProject: 'write',
  currentProject: 'read',
  importPaths: 'write',
  removeImage: 'write',
  // Browses the host's folders: only the import and open dialogs need it.
  listDirectory: 'write',
  showOpenDialog: 'write',
  tileSource: 'read',
  channelState: 'read',
  channelHistograms: 'read',
  // Saved in the project: what every browser of the host shows for the image.
  setChannelDisplay: 'write',
  overlays: 'read',
  thumbnailUrl: 'read',
  cancelJob: 'write',
  runningJobs: 'read',
  listModels: 'read',
  modelCatalogue: 'read',
  importModel: 'write',
  downloadModel: 'write',
  deleteModel: 'write',
  extractFeatures: 'write',
  extractEstimate: 'read',
  // The active set is the project's setting every browser's analyses use.
  setActiveFeatureSet: 'write',
  deleteFeatureSet: 'write',
  // Runs a model over the region as a job (model runs are the editor's, like extraction).
  attentionMaps: 'write',
  similarityQuery: 'read',
  similarityHeatmap: 'read',
  // A search like similarityQuery: it runs the set's small text tower in memory and writes nothing.
  textQuery: 'read',
  pcaOverlay: 'read',
  clusterOverlay: 'read',
  clusterRegions: 'read',
  // Writes files on the host (into the project's exports/ or any folder named).
  exportAnalysis: 'write',
  trainPresets: 'read',
  trainHardware: 'read',
  // Times a training step in a training process on the host.
  trainEstimate: 'write',
  // Times a distillation step in a training process on the host.
  distilEstimate: 'write',
  startTraining: 'write',
  // Starts a distillation run: a child process that trains and writes models into the project.
  startDistillation: 'write',
  trainingRuns: 'read',
  trainingHistory: 'read',
  pauseTraining: 'write',
  resumeTraining: 'write',
  stopTraining: 'write',
  extendTraining: 'write',
  startDemo: 'write',
  curateTiles: 'write',
  setImageMpp: 'write',
  curatedSets: 'read',
  curatedSetPreview: 'read',
  // Reads a file of the host named by the caller (the pairs CSV, whose rows it quotes in errors).
  alignEstimate: 'write',
  // Trains and writes the model's text tower (its dinotxt/ folder).
  alignText: 'write',
} as const satisfies Record<ApiMethod, 'read' | 'write'>;

/** Whether `role` may call `method` (the editor may call every method). */
export function roleMayCall(role: Role, method: ApiMethod): boolean {
  return role === 'editor' || apiAccess[method] === 'read';
}

// ---- compile-time agreement of the schemas with DinoscopeApi ----

/** Identical types (not merely assignable both ways, which would let an optional field go missing). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The methods whose schema's arguments differ from their TypeScript signature (never, or this fails to compile). */
type Mismatched = {
  [M in ApiMethod]: Same<Infer<(typeof apiSchemas)[M]>, Parameters<DinoscopeApi[M]>> extends true ? never : M;
}[ApiMethod];
const schemasMatchSignatures: [Mismatched] extends [never] ? true : Mismatched = true;
void schemasMatchSignatures;

/** The checked arguments of `method`. */
export type ApiArgs<M extends ApiMethod> = Infer<(typeof apiSchemas)[M]>;

// The one API contract between the UI and the core. Electron IPC (electron/) and the serve host's
// HTTP/WebSocket (core/serve/) are two transports of this interface; both are generated from
// `apiMethods` and `apiEvents` below, so adding a method here and its argument schema in api-schema.ts
// (checked at compile time against the signature) are the only steps needed to expose it.
// Every argument and result is structured-clone/JSON safe (plain objects, arrays, strings, numbers,
// booleans, null) unless noted.
import type { ExtractChannelRoute } from './channel-routes.js';
import type { MaskSetting, MaskUsed } from './foreground-mask.js';
export type { MaskSetting, MaskUsed } from './foreground-mask.js';

/** One level of an image pyramid. downsample = level-0 width / this level's width (≥ 1). */
export interface ImageLevel {
  width: number;
  height: number;
  downsample: number;
}

/** What a reader knows about an image, as `dinoscope info` prints it. */
export interface ImageMetadata {
  /** Reader format id, e.g. "png", "jpeg", "webp", "tiff", "tiled-tiff", "bigtiff", "svs", "ome-tiff". */
  format: string;
  width: number;
  height: number;
  levels: ImageLevel[];
  /** Microns per pixel at level 0 when the file states it, else null. */
  mpp: number | null;
  tileWidth: number;
  tileHeight: number;
  /** Vendor properties as the file gives them (Aperio ImageDescription fields, OME attributes, TIFF tags),
   * at most 256, each value cut to 1024 characters. */
  vendor: Record<string, string>;
  /** What the reader ignored in the file and why (e.g. an implausible stated resolution); absent when none. */
  warnings?: string[];
  /** The file's channels when it is multi-channel (fluorescence: OME-TIFF, OME-Zarr), in file order;
   * absent for RGB/brightfield images, whose pixels are readRegion's RGB. */
  channels?: ChannelInfo[];
}

/** Sample type of a multi-channel image's channels as stored in the file. */
export type ChannelSampleType = 'uint8' | 'uint16' | 'float32';

/** One channel of a multi-channel image, as the file's metadata states it. */
export interface ChannelInfo {
  /** OME Channel Name, or "Channel N" (1-based) where the file names none. */
  name: string;
  /** The file's display colour (OME Channel Color), as 0–255 RGB; null where the file states none. */
  color: [number, number, number] | null;
  /** Emission wavelength in nm where the file states it, else null. */
  emissionNm: number | null;
  sampleType: ChannelSampleType;
  /** The nominal value range of the sample type: [0, 255], [0, 65535]; float32: the file's stated or
   * observed range (a first guess before a histogram is taken). */
  range: [number, number];
  /** The file's display window for this channel (OME-Zarr omero `window` start/end), where it states one. */
  window?: [number, number];
  /** Whether the file shows this channel by default (OME-Zarr omero `active`), where it says. */
  active?: boolean;
}

/** How one channel of a multi-channel image is drawn into an RGB composite: samples at or below `min` are
 * black, at or above `max` full `color`; in between (v - min) / (max - min), raised to `gamma` (default 1).
 * Visible channels are added and the sum clamped to 255. */
export interface ChannelDisplay {
  color: [number, number, number];
  visible: boolean;
  min: number;
  max: number;
  gamma?: number;
}

/** How a multi-channel image is shown now: its channels, the display settings (saved in the project, or
 * the defaults: file colours, at most 6 shown, auto-contrast), and the tile URL template that draws them
 * (it changes with the settings, so a viewer reloads its tiles by taking the new one). */
export interface ChannelState {
  imageId: string;
  channels: ChannelInfo[];
  display: ChannelDisplay[];
  /** True when the display was saved for this image (setChannelDisplay); false for the defaults. */
  saved: boolean;
  tileUrl: string;
}

/** One channel's sample distribution, taken from a low pyramid level: `counts` over equal bins from `min`
 * to `max` (the samples' own extremes), and the auto-contrast limits (the 0.1 % and 99.9 % quantiles). */
export interface ChannelHistogram {
  min: number;
  max: number;
  counts: number[];
  autoMin: number;
  autoMax: number;
}

export type ImageStatus = 'ok' | 'missing' | 'unsupported' | 'corrupt' | 'caching';

/** One image of a project's collection. */
export interface ImageEntry {
  /** Stable id within the project (derived from the path at import). */
  id: string;
  /** Absolute path of the source file. */
  path: string;
  /** File name shown to the user. */
  name: string;
  status: ImageStatus;
  /** Why the image is not 'ok': a sentence naming the problem. */
  reason?: string;
  /** What the file states; meta.mpp also holds a pixel size the user stated (statedMpp) where the file states none. */
  meta?: ImageMetadata;
  /** µm per pixel at level 0 stated by the user because the file states none (setImageMpp); absent otherwise. */
  statedMpp?: number;
  /** File size in bytes at import. */
  bytes?: number;
  /** True when the project's active feature set holds this image's complete, indexed patch features, so
   * a click in the viewer can search by similarity. */
  hasFeatures?: boolean;
}

/** One feature set of a project (dense features of one model at one resolution), as the chooser shows it. */
export interface FeatureSetInfo {
  id: string;
  modelId: string;
  /** µm per pixel it was extracted at (for a set made by pyramid level: when its images agree), else null. */
  mpp: number | null;
  /** The pyramid level it was extracted at, or null for a set made by µm/px. */
  level: number | null;
  dim: number;
  /** Coverage: images with complete, indexed features in the set, of the project's readable images. */
  imagesWithFeatures: number;
  images: number;
  /** Indexed (tissue) patches over its images. */
  patches: number;
  context?: 'whole' | 'tiled' | 'mixed';
  /** Speed of its latest completed extraction run. */
  patchesPerSecond?: number;
  /** Where its search index is searched from: in memory (the default) or LanceDB (sets beyond RAM), and why. */
  indexStore?: 'memory' | 'lancedb';
  indexStoreReason?: string;
  /** Extracted with a dino.txt model: text queries can search it (textQuery). */
  textSearch?: boolean;
  createdAt: string;
  updatedAt: string;
  /** The set the analyses use. */
  active: boolean;
}

export interface ProjectSummary {
  /** Absolute path of the project folder (holds project.json and cache/). */
  path: string;
  name: string;
  images: ImageEntry[];
  /** The project's feature sets, oldest first (one of them active, or none). */
  featureSets?: FeatureSetInfo[];
  /** Id of the feature set the analyses use, or null when none is chosen. */
  activeFeatureSet?: string | null;
}

/** A pixel size stated by the user for images whose files state none. A file's own µm per pixel is never
 * overridden: naming such an image is refused. */
export interface SetImageMppRequest {
  /** µm per pixel at level 0, or null to clear a stated value. */
  mpp: number | null;
  /** These images (each must have been read and state no µm per pixel of its own); absent: every readable
   * image (ok, or building its pyramid cache) whose file states none and that has no stated value yet
   * ("state one for all"). */
  imageIds?: string[];
}

export interface SetImageMppResult {
  /** The images whose stated value changed. */
  changed: string[];
  project: ProjectSummary;
}

export interface RecentProject {
  path: string;
  name: string;
  openedAt: string;
}

export interface ImportReport {
  added: ImageEntry[];
  /** Paths already in the project. */
  skipped: string[];
  /** Paths that failed, each with its reason; they are also listed in the collection. */
  failed: { path: string; reason: string }[];
  /** Images added with a warning (what the reader ignored in the file, e.g. an implausible resolution). */
  warnings?: { path: string; warning: string }[];
}

/** A deep-zoom tile source for the viewer (DZI level numbering: maxLevel is full resolution, each
 * lower level halves). The URL template is the host's: `{level}`, `{x}`, `{y}` are substituted. */
export interface TileSourceInfo {
  imageId: string;
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  minLevel: number;
  maxLevel: number;
  tileUrl: string;
  mpp: number | null;
}

/** A tiled overlay layer the viewer can draw over an image (heatmaps, PCA, clusters, masks). */
export interface OverlayInfo {
  id: string;
  imageId: string;
  name: string;
  /** Same level numbering and tile grid as the image's TileSourceInfo; PNG tiles with alpha. */
  tileUrl: string;
  legend: { label: string; color: string }[];
  /** A continuous colour scale (heatmaps), drawn as a colour bar instead of the legend's swatches. */
  scale?: OverlayScale;
  defaultOpacity: number;
}

/** Colours evenly spaced from the score `min` (left end) to `max` (right end) of a heatmap. */
export interface OverlayScale {
  min: number;
  max: number;
  colors: string[];
  /** What the scores are (e.g. "cos"). */
  unit: string;
  /** How the range was chosen, in plain words (e.g. that it is rescaled for each query). */
  note: string;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: { name: string; path: string; kind: 'dir' | 'file'; bytes?: number }[];
}

export interface AppInfo {
  version: string;
  /** 'electron' or 'serve': which host answers. */
  host: 'electron' | 'serve';
  platform: string;
  /** Whether the host can show native file dialogs (Electron) or offers its own folder browser (serve). */
  nativeDialogs: boolean;
  /** What this caller may do, set by the serve host from the token it presented: 'editor' (the whole
   * API) or 'viewer' (read-only: the methods marked 'read' in apiAccess, core/common/api-schema.ts).
   * Absent in the desktop app, whose one user is the editor. */
  role?: Role;
}

/** What a native open dialog picks: images to import, a project folder, an alignment's pairs CSV or a
 * BPE vocabulary file, or the folder an export writes into. */
export type DialogKind = 'images' | 'project' | 'pairs' | 'vocab' | 'export';
export const DIALOG_KINDS: readonly DialogKind[] = ['images', 'project', 'pairs', 'vocab', 'export'];

/** The two tokens of a serve host: the editor's (the whole API) and the viewer's (read methods only). */
export type Role = 'editor' | 'viewer';

export type JobKind =
  'import' | 'pyramid-cache' | 'model-download' | 'model-import' | 'extract' | 'train' | 'demo' | 'attention-maps' | 'curate' | 'align';

/** Progress of long work. rate is items per second; etaSeconds null while unknown. */
export interface JobProgress {
  jobId: string;
  kind: JobKind;
  label: string;
  done: number;
  total: number;
  rate: number;
  etaSeconds: number | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  message?: string;
}

/** A model in a models folder: <project>/models/<id>/ or the user's models folder (core/model/manager). */
export interface ModelInfo {
  /** The folder name; unique within its folder (a project model shadows a user model of the same id). */
  id: string;
  name: string;
  arch: 'dinov2' | 'dinov3';
  /** 'tiny' | 'small' | 'base' | 'large' when width, depth and heads match one, else 'custom'. */
  size: string;
  dim: number;
  depth: number;
  heads: number;
  patchSize: number;
  registers: number;
  /** Input channels of its patch embedding: 3 for an RGB model, C for a model of a C-channel panel. */
  inChans: number;
  ffn: 'mlp' | 'swiglu';
  params: number;
  /** Key layout of its model.safetensors: 'hf-dinov2' | 'hf-dinov3' | 'timm' | 'original'. */
  layout: string;
  /** Where it came from: a catalogue id, a URL or a file path. */
  source: string;
  licence: string;
  /** sha256 of model.safetensors ('' for a folder copied in by hand). */
  sha256: string;
  bytes: number;
  created: string;
  location: 'project' | 'user';
  /** Absolute path of the model folder. */
  path: string;
  /** A dino.txt text tower and vision head attached to it (attach-text or an alignment): features
   * extracted with it afterwards answer text queries. Absent when it has none. */
  textTower?: { source: string; attached: string };
}

/** A well-known public checkpoint that downloadModel(id) fetches. */
export interface CatalogueModelInfo {
  id: string;
  name: string;
  arch: 'dinov2' | 'dinov3';
  size: string;
  patchSize: number;
  registers: number;
  params: number;
  bytes: number;
  licence: string;
  licenceUrl: string;
  /** The user must accept the licence on the website and supply an access token. */
  gated: boolean;
  note?: string;
  homepage: string;
  installed: boolean;
}

export interface ModelImportOptions {
  name?: string;
  /** Default 'user'; 'project' needs an open project. */
  location?: 'project' | 'user';
}

export interface ModelDownloadOptions extends ModelImportOptions {
  /** Access token for gated checkpoints (sent only to the catalogue's host). */
  token?: string;
  /** Expected sha256 of model.safetensors for a URL download. */
  sha256?: string;
}

/** Dense feature extraction over the collection (core/features/extract). Give mpp or level (default level 0). */
export interface ExtractOptions {
  modelId: string;
  /** Working resolution in µm per pixel (images without an mpp are refused). */
  mpp?: number;
  /** Pyramid level to work at when mpp is absent. */
  level?: number;
  /** Tiles per model run (default 8). */
  batch?: number;
  /** Only these images (default: every readable image). */
  imageIds?: string[];
  /**
   * How much context each patch sees. 'whole': one forward pass over each image's whole patch grid (exact
   * global context, no seams; refused for an image too large for one pass). 'tiled': tiles with context
   * margins (any size; close to, not equal to, one pass). 'auto' (default): 'whole' iff every image of the
   * run fits one pass, else 'tiled' for all, so features compare across the run.
   */
  context?: 'auto' | 'whole' | 'tiled';
  /**
   * Where the model runs. 'auto' (default): the hardware probe's selected provider (cuda, webgpu, else
   * cpu; the probe runs once per process). 'cpu' never probes. 'webgpu' / 'cuda': that provider, or cpu
   * with a warning in the log when it does not open here.
   */
  device?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  /**
   * Foreground (tissue) mask: which patches go into search and clusters (and, tiled, which tiles are
   * computed). 'auto' (default): 'brightfield' or 'fluorescence' per image, picked from its thumbnail;
   * 'off': every patch; 'brightfield': tissue on bright glass; 'fluorescence': signal on a dark background.
   * A setting other than 'auto' makes its own feature set (its id ends in -mask-<setting>).
   */
  mask?: MaskSetting;
  /**
   * Multi-channel images: the route the user wants (core/common/channel-routes.ts): 'per-channel' (an RGB
   * model on each channel as grey, C·D features) or 'channels' (a model of the panel, D features). Absent:
   * the model's own (RGB model → per-channel). A model that cannot take the asked route is refused.
   */
  channels?: ExtractChannelRoute;
  /**
   * Whether the set becomes the project's active feature set when the run completes. Default: only when no
   * set is active. A cancelled or failed run never changes the active set.
   */
  activate?: boolean;
}

/** What an extraction would do, before it starts (the Extract panel's estimate). */
export interface ExtractEstimate {
  /** The feature set it writes (or resumes). */
  featureSet: string;
  images: number;
  /** Images already complete in that set (resumed at no cost). */
  done: number;
  /** Patches of the images still to extract (background patches included: tissue is found while extracting). */
  patches: number;
  /** Patch grid of each image to extract at the chosen resolution; fallbackLevel: asked by µm per pixel,
   * the image states none and is extracted at that pyramid level (0, its own pixels) instead. */
  grids: { imageId: string; name: string; gridWidth: number; gridHeight: number; fallbackLevel?: number }[];
  /** Images that cannot be extracted at that resolution, with the reason. */
  refused: { imageId: string; name: string; reason: string }[];
  patchesPerSecond: number;
  /**
   * 'measured': this model's last run in this project on this device; 'scaled': another model's
   * (`rateModel`) measured run there, scaled by the two models' compute per patch; 'estimated': from the
   * model's size and a benchmark figure for the device.
   */
  rateFrom: 'measured' | 'scaled' | 'estimated';
  rateModel?: string;
  /** The device the rate is for ('cpu', 'webgpu', 'cuda'). */
  device: string;
  seconds: number;
  /** Multi-channel images: the route this model takes on them (core/common/feature-input.ts). Absent: RGB. */
  route?: 'channels' | 'per-channel';
  /** Model passes per patch when above 1: the per-channel route runs each patch once per channel (C× the time). */
  passesPerPatch?: number;
}

export interface ExtractImageSummary {
  imageId: string;
  name: string;
  gridWidth: number;
  gridHeight: number;
  /** Chunks (tiles) computed now, skipped as background now, and already done before this run. */
  computed: number;
  background: number;
  resumed: number;
  patches: number;
  seconds: number;
  indexedRows: number;
  /** The mask the image was extracted with ('auto' resolved) and the share of its patches it kept as
   * foreground (indexed for search and clusters), 0..1; 1 with the mask off. */
  mask: MaskUsed;
  foregroundShare: number;
  /** Context the image's features saw. */
  context: 'whole' | 'tiled';
  /** Present when the run asked for µm per pixel and this image states none: the pyramid level it was
   * extracted at instead (0, its own pixels; a warning of the run says so too). */
  fallbackLevel?: number;
}

export interface ExtractSummary {
  featureSet: string;
  modelId: string;
  /** Absolute folder of the stores (one <imageId>.zarr each) and index/. */
  dir: string;
  images: ExtractImageSummary[];
  /** Context chosen for this run (the same for all its images). */
  context: 'whole' | 'tiled';
  /** The mask setting of the run (each image's resolved mask is in images[].mask). */
  mask: MaskSetting;
  /** The onnxruntime execution provider that ran the model ('cpu', 'webgpu', 'cuda'). */
  provider: string;
  /** Warning lines of the run (e.g. the device asked for was not available, so it ran on cpu). */
  warnings: string[];
  patches: number;
  seconds: number;
  patchesPerSecond: number;
}

/** Attention / token-norm maps for a region (level-0 pixels), shown as the 'attention' and 'token-norm' overlays. */
export interface AttentionRequest {
  modelId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  mpp?: number;
  level?: number;
}

/** A similarity query (core/analysis): the mean feature of clicked points, or of a rectangle, in level-0 px. */
export interface SimilarityRequest {
  imageId: string;
  /** One click, or several (shift-click): their features are averaged. */
  points?: { x: number; y: number }[];
  /** A drawn rectangle: the mean feature of its patches. */
  rect?: { x: number; y: number; width: number; height: number };
  /** Matches to return (default 20, at most 200). */
  k?: number;
  /** A feature set id (default: the project's active feature set). */
  featureSet?: string;
}

/** A text query (dino.txt): every patch of `imageId` scored against the text, and the best regions of the
 * collection; needs a feature set extracted with a model that has a dino.txt text tower attached. */
export interface TextQueryRequest {
  text: string;
  /** The image whose heatmap is drawn (the one in view). */
  imageId: string;
  /** Matches to return (default 20, at most 200). */
  k?: number;
  /** A feature set id (default: the project's active feature set). */
  featureSet?: string;
}

/** A place in an image found by an analysis, with a small picture of it. */
export interface AnalysisMatch {
  imageId: string;
  name: string;
  /** Level-0 pixel of the patch (or region) centre. */
  x: number;
  y: number;
  score: number;
  /** One DZI tile of the image holding the place, and the square of it (tile pixels) to show;
   * tileWidth: that tile's width in pixels (edge tiles and small images are narrower than 256). */
  thumbnailUrl: string;
  crop: { x: number; y: number; size: number; tileWidth: number };
}

export interface SimilarityResult {
  overlay: OverlayInfo;
  /** Best first, one per region (non-maximum suppression), over every image of the collection. */
  matches: AnalysisMatch[];
  /** Patches averaged into the query. */
  queryPatches: number;
  /** Where the query lies on its image, level-0 pixels: one box per queried patch (a click, shift-clicks),
   * or the rectangle snapped to the patch grid. For drawing a marker on the slide. */
  queryBoxes: { x: number; y: number; width: number; height: number }[];
  /** Server time of the query and heatmap, ms. */
  ms: number;
  /** The feature set searched. */
  featureSet?: string;
}

/** The last similarity query's heatmap over another image (a match opened there). */
export interface SimilarityHeatmap {
  overlay: OverlayInfo;
  /** Level-0 pixels per patch on that image (a match's cell is this square around its centre). */
  stride: number;
}

export interface PcaOverlayOptions {
  /**
   * Foreground: where the first component of the collection PCA is above this; null: every indexed patch.
   * Absent: the set's own (pcaDefaultThreshold): null for a set extracted with a tissue mask (its indexed
   * patches are the tissue, and on a short-trained model the first component splits tissue types, not tissue
   * from glass), 0 for a set extracted with the mask off (the DINOv2 recipe: the first component finds the
   * foreground).
   */
  foregroundThreshold?: number | null;
  featureSet?: string;
  /** Each patch's features averaged with its neighbours' (Gaussian, σ in patches; 0 off) before the PCA is
   * fitted and drawn, so the map shows regions rather than patch-to-patch noise. Absent: DEFAULT_MAP_SMOOTHING. */
  smoothing?: number;
}

export interface ClusterOverlayOptions {
  /** As PcaOverlayOptions.smoothing, for the k-means fit and every patch's cluster. */
  smoothing?: number;
}

/** A connected region of one cluster. score = its area in patches. */
export interface ClusterRegionInfo extends AnalysisMatch {
  cluster: number;
  patches: number;
  /** Bounding box, level-0 pixels. */
  box: { x: number; y: number; width: number; height: number };
}

export type AnalysisExportFormat = 'npy' | 'safetensors' | 'zarr' | 'png' | 'ome-tiff' | 'geojson' | 'csv' | 'qupath';

export interface AnalysisExportRequest {
  format: AnalysisExportFormat;
  /** What to export (defaults by format: npy/safetensors/zarr → features, png/ome-tiff → pca,
   * geojson/qupath → clusters, csv → search after a similarity query, else features).
   * qupath: GeoJSON per image plus open-in-qupath.txt pairing each image file with its GeoJSON. */
  what?: 'features' | 'pca' | 'clusters' | 'similarity' | 'search';
  /** Images (default: every image with features). */
  imageIds?: string[];
  /** Output folder (default <project>/exports/<format>-<time>). */
  dir?: string;
  /** k for cluster exports (default: the last clustering, else 8). */
  k?: number;
  /** Cosine threshold for similarity polygons (default 0.5 between the map's scale ends). */
  threshold?: number;
  /** PCA maps: the foreground threshold, as PcaOverlayOptions.foregroundThreshold (absent: the set's own). */
  pcaThreshold?: number | null;
  /** PCA and cluster maps: neighbour smoothing, σ in patches (absent: that of the maps last shown, else
   * DEFAULT_MAP_SMOOTHING; core/common/map-smoothing.ts). */
  smoothing?: number;
  /** png / ome-tiff maps: pixels per patch side (default 1; µm per pixel = stride · mpp / this). */
  pixelsPerPatch?: number;
}

export interface AnalysisExportResult {
  format: AnalysisExportFormat;
  dir: string;
  paths: string[];
  /** What the user does next with the files, in plain words (set for qupath). */
  notice?: string;
  /** png / ome-tiff maps: µm per pixel written into the files (of the first image), null when the image
   * states no µm per pixel. */
  umPerPixel?: number | null;
}

/** Training (issues 5 and 7): 'pretrain' is DINO + iBOT + KoLeo; 'adapt' is the high-resolution stage
 * with Gram anchoring, started from a trained or imported model. */
export type TrainStage = 'pretrain' | 'adapt';

export interface TrainPresetInfo {
  name: string;
  label: string;
  description: string;
  stage: TrainStage;
  /** 'cpu' or 'gpu': what the preset is sized for. */
  sizedFor: 'cpu' | 'gpu';
  /** What its runs optimise: 'dino' (DINO + iBOT + KoLeo) or 'capi' (CAPI: settings.prototypes are its clusters). */
  objective: 'dino' | 'capi';
  /** The preset's main settings, for the panel's summary and advanced form. */
  settings: {
    size: string;
    patchSize: number;
    /** Transformer blocks (a preset may train fewer than its size's: Quick's ViT-Tiny has 6). */
    depth: number;
    registers: number;
    globalSize: number;
    localSize: number;
    localCrops: number;
    batchSize: number;
    steps: number;
    prototypes: number;
    baseLr: number;
    /** The base lr of continued pretraining, i.e. of a pretrain run started from a model (lower than from
     * scratch: core/train/config.ts CONTINUED_OVERRIDES); absent for adapt presets. */
    continuedBaseLr?: number;
  };
}

/** The hardware a run will use: onnxruntime execution providers found on this host. */
export interface TrainHardware {
  /**
   * An unavailable provider's `note` says in plain words what is missing, what runs instead and what to do;
   * `detail` is the probe's raw reason (onnxruntime's and the native libraries' lines) for bug reports.
   */
  providers: {
    name: string;
    available: boolean;
    note?: string;
    detail?: string;
    /** An available GPU provider that runs float16 kernels (mixed-precision training): cuda always, webgpu
     * when its adapter has the shader-f16 feature. Absent for the CPU. */
    float16?: boolean;
  }[];
  /** The provider a run would use now (first available of the preference order). */
  selected: string;
  cpuThreads: number;
}

export interface TrainStartOptions {
  stage?: TrainStage;
  preset: string;
  /** A model id (see listModels) to start from: continued pretraining, or the model to adapt. */
  from?: string | null;
  steps?: number;
  minutes?: number;
  /** Strict config overrides (core/train/config.ts keys), from the panel's advanced settings. */
  overrides?: Record<string, unknown>;
  /** Run name (default run-<time>). */
  name?: string;
}

/** A distillation run (DINOv3 distillation, core/train/distill): a model of the project as the frozen teacher,
 * one or more smaller students trained on its one forward per step; each student becomes the model <run>-<size>. */
export interface DistilStartOptions {
  /** A model id (see listModels): the teacher. */
  teacher: string;
  /** Student sizes, each once: 'tiny', 'small', 'base' (each smaller than the teacher). */
  students: ('tiny' | 'small' | 'base')[];
  /** The preset whose crops, batch and schedules the run takes (default quick). */
  preset?: string;
  steps?: number;
  minutes?: number;
  name?: string;
  /** A curated set of the project (curatedSets) to draw the crops from instead of every image's tissue. */
  tiles?: string;
}

/** More training for a finished or stopped run: N more steps or M more minutes (one of them). */
export interface TrainExtendOptions {
  steps?: number;
  minutes?: number;
}

/** Peak memory a run would need, shown before it starts ("this needs ~N GB"). */
export interface TrainEstimate {
  totalBytes: number;
  text: string;
  /** How long the budget takes on this computer (absent where the host does not measure). */
  timing?: TrainTiming;
}

/** One step of the config timed on this computer (in a training process, after a warm-up step; cached for
 * the session per project, config and device), and the budget in those terms. */
export interface TrainTiming {
  /** 'measuring': ask again shortly; 'busy': not measured while a run trains; 'failed': see message. */
  state: 'measured' | 'measuring' | 'busy' | 'failed';
  message?: string;
  secondsPerStep?: number;
  /** From Start to the end of the first step: loading the images, building the graph, the first step. */
  startupSeconds?: number;
  /** The steps of the budget (a minutes budget: about how many it buys). */
  steps?: number;
  /** Start-up and every step of the budget. */
  totalSeconds?: number;
}

export type TrainRunStatus = 'running' | 'paused' | 'stopped' | 'done' | 'failed' | 'interrupted';

/** Which tiles a run trains on: 'uniform' (every image's tissue, uniformly) or 'curated:NAME' (the project's
 * curated set NAME, see curatedSets). */
export type TrainRunData = 'uniform' | `curated:${string}`;

export interface TrainRunInfo {
  name: string;
  stage: TrainStage;
  preset: string;
  status: TrainRunStatus;
  step: number;
  totalSteps: number;
  checkpointStep: number | null;
  createdAt: string;
  updatedAt: string;
  /** The job id while the run is live (its jobProgress events carry it). */
  jobId: string | null;
  /** The model the run wrote into the project's models/ (its teacher backbone), once it has one. */
  modelId: string | null;
  error?: string;
  /** What a live run is doing before its first step after a start, resume or restart, in words
   * ('loading the images', 'building the training graph', 'running the first step'); absent once steps come. */
  starting?: string;
  /** What the run trains in (its runtime.precision resolved for its device), once it has started. */
  precision?: 'fp32' | 'mixed';
  /** Which tiles it trains on (runs recorded before curated sets existed: uniform). */
  data: TrainRunData;
}

/** Dense-feature health on the fixed probe set (issue 7 item 4). */
export interface TrainHealth {
  /** Share of a probe patch's positive similarity mass near itself (higher: sharper, more local features). */
  locality: number;
  /** Share within its own region when the probes have region labels. */
  region?: number;
  /** Mean CLS–patch cosine (rising: the degradation DINOv3 describes). */
  clsPatchCosine: number;
}

export interface TrainStepInfo {
  run: string;
  jobId: string;
  step: number;
  total: number;
  /** The run's loss terms: DINO's (dino, ibot, koleo; gram while the Gram teacher is active) or, for a CAPI run
   * (preset capi), capi (the student's prediction loss) and clustering (the online clustering head's own). */
  losses: { dino?: number; ibot?: number; koleo?: number; gram?: number; capi?: number; clustering?: number; total: number };
  lr: number;
  /** DINO: the teacher's temperature; CAPI: the Sinkhorn-Knopp targets' temperature. */
  teacherTemp: number;
  imagesPerSec: number;
  etaSeconds: number | null;
  /** Entropy of the teacher's targets; featureRank (of the teacher's CLS features) on DINO runs only. */
  signals: { teacherEntropy: number; featureRank?: number; nan: boolean };
  /** Present on the steps where the probe set was evaluated. */
  health?: TrainHealth;
  /** Mixed precision: whether the step was skipped (its gradients overflowed in float16; nothing was updated)
   * and the loss scale after it. */
  amp?: { skipped: boolean; lossScale: number };
}

/** The teacher's PCA colouring of a fixed tile, refreshed every few hundred steps. */
export interface TrainPreview {
  run: string;
  jobId: string;
  step: number;
  /** data:image/png;base64,… */
  png: string;
}

/** Collapse or NaN: the run pauses itself and the panel asks what to do. */
export interface TrainAlert {
  run: string;
  jobId: string;
  step: number;
  kind: 'collapse' | 'nan';
  message: string;
  paused: boolean;
}

/** A curated training set (core/features/curation): tiles of the collection, deduplicated and balanced. */
export interface CurateRequest {
  /** Feature set whose embeddings choose the tiles (default: the active one). */
  set?: string;
  /** Name of the list (default 'curated'; letters, digits, '.', '-', '_'). */
  name?: string;
  /** Tiles to pick as a fixed subset (default: every distinct tile, drawn with weights that balance the clusters). */
  tiles?: number;
  /** Tile side in patches (default 14). */
  tilePatches?: number;
  /** Cosine similarity at or above which two tiles are duplicates (default 0.98). */
  dedup?: number;
  /** Clusters per level, bottom first (default ≈ √n, then ≈ n^¼). */
  levels?: number[];
  /** At most this fraction of the tiles from one image (default 1). */
  imageCap?: number;
  seed?: number;
}

export interface CuratedSetInfo {
  name: string;
  featureSet: string;
  modelId: string;
  createdAt: string;
  /** Tiles in the list, and the images they come from. */
  tiles: number;
  images: number;
  candidates: number;
  duplicates: number;
  /** Distinct tiles per top-level cluster, and tiles picked from each (a weighted set: each cluster's expected
   * draws in as many draws as it has tiles). */
  clustersBefore: number[];
  clustersAfter: number[];
}

/** A few tiles of each top-level cluster of a curated set, as small JPEG data URLs (the Train panel's mosaic). */
export interface CuratedSetPreview {
  name: string;
  clusters: {
    cluster: number;
    before: number;
    after: number;
    samples: { imageId: string; x: number; y: number; size: number; url: string }[];
  }[];
}

/** LiT alignment (core/train/align): trains model M's dino.txt text tower and vision head on
 * image-region/caption pairs with the backbone frozen, then attaches them to M. */
export interface AlignRequest {
  modelId: string;
  /** Absolute path on the host of the pairs CSV: a header naming image, x, y, width, height, caption. */
  pairs: string;
  /** Training steps (default 200). */
  steps?: number;
  /** Pairs per contrastive batch (default 32). */
  batch?: number;
  lr?: number;
  /** Side, in patches, each region is resampled to (default 8). */
  cropPatches?: number;
  seed?: number;
  /** A BPE vocabulary file (bpe_simple_vocab_16e6.txt.gz): needed when the model has no text tower yet. */
  vocab?: string;
  /** The size of a new text tower (a model without one; refused for one that has one). */
  textDim?: number;
  textDepth?: number;
  textHeads?: number;
  context?: number;
  headBlocks?: number;
}

/** What an alignment will do, said before it starts (the pairs file already checked). */
export interface AlignEstimate {
  modelId: string;
  pairs: number;
  images: number;
  /** Distinct captions among the pairs. */
  captions: number;
  steps: number;
  batch: number;
  /** 'continue': trains the model's attached text tower further; 'new': a fresh one from the vocabulary. */
  start: 'continue' | 'new';
  textTower: { width: number; blocks: number; heads: number; context: number; headBlocks: number };
  /** Seconds on this computer, estimated from the towers' size (not measured). */
  seconds: number;
}

export interface AlignSummary {
  model: string;
  pairs: number;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  seconds: number;
}

export interface DemoOptions {
  /** Training budget in minutes (default 3). */
  minutes?: number;
  /** Folder of the demo project (default <home>/Dinoscope/demo). */
  dir?: string;
  /** A smoke-test demo (tests): small slides and a minute model (the pretrain --tiny one). */
  tiny?: boolean;
}

export interface DinoscopeApi {
  appInfo(): Promise<AppInfo>;
  recentProjects(): Promise<RecentProject[]>;
  createProject(path: string, name?: string): Promise<ProjectSummary>;
  openProject(path: string): Promise<ProjectSummary>;
  currentProject(): Promise<ProjectSummary | null>;
  /** Import files or folders (recursively) by absolute path on the host machine. */
  importPaths(paths: string[]): Promise<ImportReport>;
  removeImage(imageId: string): Promise<ProjectSummary>;
  /** States the pixel size of images whose files state none (or clears it, mpp null); see SetImageMppRequest. */
  setImageMpp(request: SetImageMppRequest): Promise<SetImageMppResult>;
  /** Browse the host's file system (the serve host's own "open" dialog; Electron uses native dialogs). */
  listDirectory(path: string | null): Promise<DirectoryListing>;
  /** Electron only: native dialogs. Resolve to [] / null when cancelled. */
  showOpenDialog(kind: DialogKind): Promise<string[]>;
  tileSource(imageId: string): Promise<TileSourceInfo>;
  /** A multi-channel image's channels and how they are shown (BAD_INPUT for an RGB image). */
  channelState(imageId: string): Promise<ChannelState>;
  /** Per-channel histograms and auto-contrast limits, from a low pyramid level (at most 1024 px a side). */
  channelHistograms(imageId: string): Promise<ChannelHistogram[]>;
  /** Saves how the image's channels are shown (one entry per channel; null restores the defaults) and
   * returns the new state, whose tileUrl draws them. */
  setChannelDisplay(imageId: string, display: ChannelDisplay[] | null): Promise<ChannelState>;
  overlays(imageId: string): Promise<OverlayInfo[]>;
  /** URL of a JPEG thumbnail (longest side ≤ 256 px). */
  thumbnailUrl(imageId: string): Promise<string>;
  cancelJob(jobId: string): Promise<void>;
  /** The jobs running now (a window opened while they run shows them; their jobProgress events follow). */
  runningJobs(): Promise<JobProgress[]>;
  /** Models in the user's models folder and the open project's models/ folder. */
  listModels(): Promise<ModelInfo[]>;
  modelCatalogue(): Promise<CatalogueModelInfo[]>;
  /** Import a .safetensors file (with its config.json beside it, when it has one) or a model folder. */
  importModel(path: string, options?: ModelImportOptions): Promise<ModelInfo>;
  /** Download a catalogue id or an http(s) URL of a .safetensors file; progress as a 'model-download' job. */
  downloadModel(source: string, options?: ModelDownloadOptions): Promise<ModelInfo>;
  deleteModel(id: string): Promise<void>;
  /** Dense features of the open project's images with a model; progress as an 'extract' job. */
  extractFeatures(options: ExtractOptions): Promise<ExtractSummary>;
  /** Patch count and time estimate of an extraction, before it starts. */
  extractEstimate(options: ExtractOptions): Promise<ExtractEstimate>;
  /** Makes a feature set the one the analyses use (persisted in the project); earlier results are dropped. */
  setActiveFeatureSet(id: string): Promise<ProjectSummary>;
  /** Deletes a feature set's stores and index (refused while an extraction writes it). */
  deleteFeatureSet(id: string): Promise<ProjectSummary>;
  /** Compute attention and token-norm maps for a region; returns the overlays to show. Progress (model
   * loading, then tiles) as an 'attention-maps' job; cancelling it rejects with CANCELLED. */
  attentionMaps(imageId: string, request: AttentionRequest): Promise<OverlayInfo[]>;
  /** Click / shift-click / rectangle query: heatmap overlay on this image and ranked matches everywhere. */
  similarityQuery(request: SimilarityRequest): Promise<SimilarityResult>;
  /** A text query over a dino.txt feature set: the same overlay, matches and export as a patch query. */
  textQuery(request: TextQueryRequest): Promise<SimilarityResult>;
  /** The last similarity query's vector, kept, scored over another image: its heatmap there. */
  similarityHeatmap(imageId: string): Promise<SimilarityHeatmap>;
  /** RGB overlay of the collection's foreground PCA (one basis for every image). */
  pcaOverlay(imageId: string, options?: PcaOverlayOptions): Promise<OverlayInfo>;
  /** k-means of the collection (same colours on every image) drawn over this image. */
  clusterOverlay(imageId: string, k: number, options?: ClusterOverlayOptions): Promise<OverlayInfo>;
  /** The largest regions of a cluster of the last clusterOverlay, over every image. */
  clusterRegions(clusterId: number): Promise<ClusterRegionInfo[]>;
  /** Writes feature maps, PCA/cluster maps, polygons or search results; returns the files. */
  exportAnalysis(request: AnalysisExportRequest): Promise<AnalysisExportResult>;
  trainPresets(): Promise<TrainPresetInfo[]>;
  trainHardware(): Promise<TrainHardware>;
  trainEstimate(options: TrainStartOptions): Promise<TrainEstimate>;
  /** Memory and time estimate of a distillation, before it starts (time: one step measured on this computer). */
  distilEstimate(options: DistilStartOptions): Promise<TrainEstimate>;
  /** Starts a run off the UI thread (a child process); progress as a 'train' job plus trainStep events. */
  startTraining(options: TrainStartOptions): Promise<TrainRunInfo>;
  /** Starts a distillation run (a child process, as startTraining): its steps, previews and checkpoints as a run's. */
  startDistillation(options: DistilStartOptions): Promise<TrainRunInfo>;
  /** The open project's runs (live ones with their jobId). */
  trainingRuns(): Promise<TrainRunInfo[]>;
  /** A run's recorded steps (progress.jsonl), to redraw curves when the panel opens; with `maxSteps`, thinned
   * to about that many (core/common/thin-steps.ts: each stretch's lowest and highest loss, health steps kept). */
  trainingHistory(run: string, maxSteps?: number): Promise<TrainStepInfo[]>;
  pauseTraining(run: string): Promise<TrainRunInfo>;
  /** Resumes a paused run, or restarts a stopped/interrupted one from its last checkpoint. */
  resumeTraining(run: string): Promise<TrainRunInfo>;
  /** Checkpoints and stops. */
  stopTraining(run: string): Promise<TrainRunInfo>;
  /** Continues a finished or stopped run for more steps or minutes: same step counter, optimizer and
   * teacher, the schedules re-planned over the new total from its checkpoint (core/train/schedule-plan.ts). */
  extendTraining(run: string, options: TrainExtendOptions): Promise<TrainRunInfo>;
  /** Generates the sample collection, pretrains, extracts and opens it; progress as a 'demo' job. */
  startDemo(options?: DemoOptions): Promise<ProjectSummary>;
  /** Builds a curated tile list from the project's features (a 'curate' job); training can sample from it. */
  curateTiles(request: CurateRequest): Promise<CuratedSetInfo>;
  /** The project's curated tile lists, newest first. */
  curatedSets(): Promise<CuratedSetInfo[]>;
  /** Up to `perCluster` tiles of each top-level cluster of the list `name`. */
  curatedSetPreview(name: string, perCluster?: number): Promise<CuratedSetPreview>;
  /** Checks an alignment request (the pairs file's bad rows named) and estimates it, before it starts. */
  alignEstimate(request: AlignRequest): Promise<AlignEstimate>;
  /** LiT alignment of a model's text tower on region/caption pairs; progress as two 'align' jobs
   * (backbone features, then training steps), cancelled with cancelJob. */
  alignText(request: AlignRequest): Promise<AlignSummary>;
}

/** Events pushed from the host to the UI. */
/** A command chosen in the Electron app menu, for the UI to carry out (the serve host never sends it). */
export type MenuCommand = 'new-project' | 'open-project' | 'import-images';

export interface DinoscopeEvents {
  jobProgress: JobProgress;
  projectChanged: ProjectSummary;
  menuCommand: { command: MenuCommand };
  trainStep: TrainStepInfo;
  trainPreview: TrainPreview;
  trainAlert: TrainAlert;
  trainRun: TrainRunInfo;
}

/** The method names, generated into the IPC bridge and the HTTP router: a method missing here fails to
 * type-check, so the transports cannot drift from the interface. */
export const apiMethods = {
  appInfo: true,
  recentProjects: true,
  createProject: true,
  openProject: true,
  currentProject: true,
  importPaths: true,
  removeImage: true,
  setImageMpp: true,
  listDirectory: true,
  showOpenDialog: true,
  tileSource: true,
  channelState: true,
  channelHistograms: true,
  setChannelDisplay: true,
  overlays: true,
  thumbnailUrl: true,
  cancelJob: true,
  runningJobs: true,
  listModels: true,
  modelCatalogue: true,
  importModel: true,
  downloadModel: true,
  deleteModel: true,
  extractFeatures: true,
  extractEstimate: true,
  setActiveFeatureSet: true,
  deleteFeatureSet: true,
  attentionMaps: true,
  similarityQuery: true,
  textQuery: true,
  similarityHeatmap: true,
  pcaOverlay: true,
  clusterOverlay: true,
  clusterRegions: true,
  exportAnalysis: true,
  trainPresets: true,
  trainHardware: true,
  trainEstimate: true,
  distilEstimate: true,
  startTraining: true,
  startDistillation: true,
  trainingRuns: true,
  trainingHistory: true,
  pauseTraining: true,
  resumeTraining: true,
  stopTraining: true,
  extendTraining: true,
  startDemo: true,
  curateTiles: true,
  curatedSets: true,
  curatedSetPreview: true,
  alignEstimate: true,
  alignText: true,
} as const satisfies Record<keyof DinoscopeApi, true>;

export const apiEvents = {
  jobProgress: true,
  projectChanged: true,
  menuCommand: true,
  trainStep: true,
  trainPreview: true,
  trainAlert: true,
  trainRun: true,
} as const satisfies Record<keyof DinoscopeEvents, true>;

export type ApiMethod = keyof DinoscopeApi;
export type ApiEvent = keyof DinoscopeEvents;

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(apiMethods, name);
}

export function isApiEvent(name: unknown): name is ApiEvent {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(apiEvents, name);
}

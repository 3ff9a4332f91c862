// What the Export dialog offers and how it runs an export: the formats with what each can write (the
// same table as core/analysis/export.ts), and the requests it sends. Exports that write one file per
// image are sent image by image into one folder, so the dialog can show progress; exports whose files
// belong together (QuPath's guide, search results, a similarity map) go in one request.
import type { AnalysisExportFormat, AnalysisExportRequest } from '../../../../core/common/api.js';

export type ExportWhat = NonNullable<AnalysisExportRequest['what']>;

export interface FormatChoice {
  format: AnalysisExportFormat;
  label: string;
  hint: string;
  what: readonly ExportWhat[];
}

export const FORMATS: readonly FormatChoice[] = [
  {
    format: 'qupath',
    label: 'For QuPath',
    hint: 'GeoJSON annotations per image and a list pairing each image file with its GeoJSON',
    what: ['clusters', 'similarity'],
  },
  { format: 'zarr', label: 'OME-Zarr', hint: 'feature maps, NGFF 0.5, axes in µm, with a pyramid', what: ['features'] },
  {
    format: 'ome-tiff',
    label: 'OME-TIFF',
    hint: "pyramidal maps at the image's µm per pixel; clusters as a label image",
    what: ['pca', 'clusters'],
  },
  {
    format: 'png',
    label: 'PNG',
    hint: 'maps with their µm per pixel; clusters as a label image plus a colour preview',
    what: ['pca', 'clusters'],
  },
  { format: 'geojson', label: 'GeoJSON', hint: 'cluster or similarity polygons in level-0 pixels', what: ['clusters', 'similarity'] },
  {
    format: 'csv',
    label: 'CSV',
    hint: 'features with patch coordinates, or the matches of the current search',
    what: ['features', 'search'],
  },
  {
    format: 'npy',
    label: 'NumPy .npy',
    hint: 'feature grids (float16), PCA colours or cluster labels',
    what: ['features', 'pca', 'clusters'],
  },
  { format: 'safetensors', label: 'safetensors', hint: 'feature grids (float16) with the grid geometry', what: ['features'] },
];

export const WHAT_LABEL: Record<ExportWhat, string> = {
  features: 'Features',
  pca: 'PCA colours',
  clusters: 'Clusters',
  similarity: 'Similarity of the current query',
  search: 'Matches of the current search',
};

/** Whether `what` needs a similarity query to have been run. */
export const needsQuery = (what: ExportWhat): boolean => what === 'similarity' || what === 'search';
/** Whether the export writes one file per image (then it is sent image by image). */
export const perImage = (format: AnalysisExportFormat, what: ExportWhat): boolean => format !== 'qupath' && !needsQuery(what);
/** Whether the format writes maps whose pixel size can be chosen. */
export const hasPixelSize = (format: AnalysisExportFormat, what: ExportWhat): boolean =>
  (format === 'png' || format === 'ome-tiff') && (what === 'pca' || what === 'clusters');

export interface ExportChoices {
  format: AnalysisExportFormat;
  what: ExportWhat;
  k: number;
  /** PCA maps: the threshold the Find similar panel shows (null: the set's own foreground). */
  pcaThreshold?: number | null;
  pixelsPerPatch: number;
  /** Images to export (ids); ignored for exports of the current query. */
  imageIds: string[];
  /** Destination folder; null = a new folder under the project's exports/. */
  dir: string | null;
}

/** The requests of one export, in order; `dir` is filled in after the first when the host chose it. */
export function exportRequests(c: ExportChoices): AnalysisExportRequest[] {
  const base: AnalysisExportRequest = { format: c.format, what: c.what, ...(c.dir ? { dir: c.dir } : {}) };
  if (c.what === 'clusters') base.k = c.k;
  if (c.what === 'pca' && typeof c.pcaThreshold === 'number') base.pcaThreshold = c.pcaThreshold;
  if (hasPixelSize(c.format, c.what)) base.pixelsPerPatch = c.pixelsPerPatch;
  if (needsQuery(c.what)) return [base];
  if (!perImage(c.format, c.what)) return [{ ...base, imageIds: c.imageIds }];
  return c.imageIds.map((id) => ({ ...base, imageIds: [id] }));
}

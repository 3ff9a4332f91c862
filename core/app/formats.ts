// The image layer (core/data) as the project importer and the tile server use it.
import { buildPyramidCache, needsPyramidCache } from '../data/pyramid-cache.js';
import { openImage } from '../data/readers/registry.js';
import type { ImageFormats } from '../project/importer.js';

export const defaultFormats: ImageFormats = {
  openImage: (path) => openImage(path),
  needsPyramidCache,
  buildPyramidCache: (src, cacheDir, options) => buildPyramidCache(src, cacheDir, options),
};

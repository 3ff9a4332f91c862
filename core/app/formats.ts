// The image layer (core/data) as the project importer and the tile server use it.
import { DinoscopeError } from '../common/errors.js';
import { openImage } from '../data/readers/registry.js';
import type { ImageFormats } from '../project/importer.js';

export const defaultFormats: ImageFormats = {
  openImage: (path) => openImage(path),
  // Until core/data/pyramid-cache.ts lands every readable image is served from its source.
  needsPyramidCache: () => false,
  buildPyramidCache: (src) => Promise.reject(new DinoscopeError('UNSUPPORTED', `${src}: pyramid caches are not available yet.`)),
};

// sharp, loaded on its first call. Loading sharp (libvips and its native binding) costs about a quarter of
// a second of CPU; every `dinoscope` process and worker that imported it at start-up paid that even when it
// never touched a pixel (`--help`, bad input, `info` of a TIFF, `models list`). Core code calls this `sharp`
// exactly like the package's default export; the package is required the first time it is called.
import { createRequire } from 'node:module';
import type SharpFactory from 'sharp';

let loaded: typeof SharpFactory | undefined;

function load(): typeof SharpFactory {
  // The CommonJS build through require: synchronous, so call sites stay as they were; the native binding is
  // one per process whichever build loads it.
  loaded ??= createRequire(import.meta.url)('sharp') as typeof SharpFactory;
  return loaded;
}

/** sharp's default export (`sharp(input, options)`), loading the package on the first call. */
export const sharp = ((...args: Parameters<typeof SharpFactory>) => load()(...args)) as typeof SharpFactory;

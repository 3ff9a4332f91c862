// The system's libopenslide, loaded at run time through koffi (an FFI whose prebuilt binaries ship inside
// its npm package). Dinoscope does not bundle OpenSlide: it looks for the library where each platform's
// package manager puts it, and where none is found the vendor formats are refused with the install line
// (install-hint.ts) while everything else reads as before. Every call here blocks its thread: readers
// that use it run in the reader pool's worker threads (core/reader-pool), never on a host's event loop.
//
// Strings that OpenSlide hands out (property names and values, errors) are copied at most `max` bytes
// each: a hostile file's megabyte-long property is cut where it is read, never copied whole.

/** Where the library is looked for, in order. DINOSCOPE_OPENSLIDE_LIBRARY names one file instead (and
 * only that one: a missing path means "no OpenSlide", which is how tests take the missing-library path). */
export function libraryCandidates(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
  const forced = env.DINOSCOPE_OPENSLIDE_LIBRARY;
  if (forced) return [forced];
  if (platform === 'darwin') {
    const names = ['libopenslide.1.dylib', 'libopenslide.0.dylib'];
    // Homebrew on Apple silicon and on Intel, MacPorts; bare names last (DYLD_LIBRARY_PATH).
    return [...['/opt/homebrew/lib', '/usr/local/lib', '/opt/local/lib'].flatMap((dir) => names.map((n) => `${dir}/${n}`)), ...names];
  }
  if (platform === 'win32') return ['libopenslide-1.dll', 'libopenslide-0.dll'];
  // Linux and the BSDs: the dynamic linker's search path (OpenSlide 4 is .so.1, 3.4 is .so.0).
  return ['libopenslide.so.1', 'libopenslide.so.0'];
}

/** An open slide: an opaque pointer. */
export type SlideHandle = bigint;

/** The OpenSlide C API as this reader uses it (openslide.h, 3.4 and 4.x). */
export interface OpenSlideApi {
  /** Where it was loaded from, and the library's version string. */
  readonly loadedFrom: string;
  readonly version: string;
  detectVendor(path: string): string | null;
  open(path: string): SlideHandle | null;
  close(osr: SlideHandle): void;
  /** The slide's error (it is unusable once set), cut to 1024 bytes; null when none. */
  error(osr: SlideHandle): string | null;
  levelCount(osr: SlideHandle): number;
  levelDimensions(osr: SlideHandle, level: number): { width: number; height: number };
  levelDownsample(osr: SlideHandle, level: number): number;
  /** Property names, at most `maxNames`, each cut to `maxBytes`. */
  propertyNames(osr: SlideHandle, maxNames: number, maxBytes: number): string[];
  propertyValue(osr: SlideHandle, name: string, maxBytes: number): string | null;
  /** Premultiplied ARGB (native-endian uint32 per pixel) of (x, y, w, h): x, y in level-0 coordinates. */
  readRegion(osr: SlideHandle, dest: Uint32Array, x: number, y: number, level: number, w: number, h: number): void;
  associatedNames(osr: SlideHandle, maxNames: number, maxBytes: number): string[];
  associatedDimensions(osr: SlideHandle, name: string): { width: number; height: number };
  readAssociated(osr: SlideHandle, name: string, dest: Uint32Array): void;
}

export type LoadResult = { api: OpenSlideApi } | { api: null; tried: string[]; why: string };

type Koffi = (typeof import('koffi'))['default'];

/** The C string at `ptr`, at most `max` bytes of it (UTF-8, invalid bytes replaced); '' for NULL. Bytes
 * are read one view at a time up to the first NUL, never past it. */
function boundedString(koffi: Koffi, ptr: bigint | null, max: number): string {
  if (!ptr) return '';
  const bytes = new Uint8Array(koffi.view(ptr, max));
  let n = 0;
  while (n < max && bytes[n] !== 0) n++;
  return new TextDecoder().decode(bytes.slice(0, n));
}

/** The first `maxNames` entries of a NULL-terminated array of C strings. */
function stringArray(koffi: Koffi, ptr: bigint | null, maxNames: number, maxBytes: number): string[] {
  const out: string[] = [];
  if (!ptr) return out;
  const step = koffi.sizeof('void *');
  for (let i = 0; i < maxNames; i++) {
    const item = koffi.decode(ptr, i * step, 'void *') as bigint | null;
    if (!item) break;
    out.push(boundedString(koffi, item, maxBytes));
  }
  return out;
}

/** libtiff as OpenSlide links it, where the dynamic linker finds it by name. */
const LIBTIFF_NAMES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['libtiff.so.6', 'libtiff.so.5'],
  darwin: ['libtiff.6.dylib', '/opt/homebrew/lib/libtiff.6.dylib', '/usr/local/lib/libtiff.6.dylib'],
};

/** OpenSlide 3.4 leaves libtiff's warning handler in place, which prints lines such as "JPEGFixupTags…:
 * Warning, Auto-corrected former TIFF subsampling values" on stderr for ordinary slides (OpenSlide 4
 * silences them itself). Best effort: where libtiff cannot be found by name, the warnings stay. */
function silenceLibtiffWarnings(koffi: Koffi): void {
  for (const name of LIBTIFF_NAMES[process.platform] ?? []) {
    try {
      koffi.load(name).func('void *TIFFSetWarningHandler(void *handler)')(null);
      return;
    } catch {
      // not this name
    }
  }
}

function bind(koffi: Koffi, from: string): OpenSlideApi {
  const lib = koffi.load(from);
  silenceLibtiffWarnings(koffi);
  const f = (decl: string): ((...args: unknown[]) => unknown) => lib.func(decl);
  const getVersion = f('const char *openslide_get_version()');
  const detectVendor = f('const char *openslide_detect_vendor(const char *filename)');
  const open = f('void *openslide_open(const char *filename)');
  const close = f('void openslide_close(void *osr)');
  const getError = f('void *openslide_get_error(void *osr)');
  const levelCount = f('int32_t openslide_get_level_count(void *osr)');
  const levelDimensions = f('void openslide_get_level_dimensions(void *osr, int32_t level, _Out_ int64_t *w, _Out_ int64_t *h)');
  const levelDownsample = f('double openslide_get_level_downsample(void *osr, int32_t level)');
  const propertyNames = f('void *openslide_get_property_names(void *osr)');
  const propertyValue = f('void *openslide_get_property_value(void *osr, const char *name)');
  const readRegion = f(
    'void openslide_read_region(void *osr, _Out_ uint32_t *dest, int64_t x, int64_t y, int32_t level, int64_t w, int64_t h)',
  );
  const associatedNames = f('void *openslide_get_associated_image_names(void *osr)');
  const associatedDimensions = f(
    'void openslide_get_associated_image_dimensions(void *osr, const char *name, _Out_ int64_t *w, _Out_ int64_t *h)',
  );
  const readAssociated = f('void openslide_read_associated_image(void *osr, const char *name, _Out_ uint32_t *dest)');
  const dims = (call: (w: [number], h: [number]) => void): { width: number; height: number } => {
    const w: [number] = [-1];
    const h: [number] = [-1];
    call(w, h);
    return { width: Number(w[0]), height: Number(h[0]) };
  };
  // The pointers OpenSlide returns for these are non-NULL only while a value exists; a slide in error
  // answers NULL or -1 everywhere, which the reader turns into one error via error().
  return {
    loadedFrom: from,
    version: String(getVersion() ?? 'unknown'),
    detectVendor: (path) => (detectVendor(path) as string | null) ?? null,
    open: (path) => (open(path) as bigint | null) || null,
    close: (osr) => void close(osr),
    error: (osr) => {
      const p = getError(osr) as bigint | null;
      return p ? boundedString(koffi, p, 1024) : null;
    },
    levelCount: (osr) => Number(levelCount(osr)),
    levelDimensions: (osr, level) => dims((w, h) => levelDimensions(osr, level, w, h)),
    levelDownsample: (osr, level) => Number(levelDownsample(osr, level)),
    propertyNames: (osr, maxNames, maxBytes) => stringArray(koffi, propertyNames(osr) as bigint | null, maxNames, maxBytes),
    propertyValue: (osr, name, maxBytes) => {
      const p = propertyValue(osr, name) as bigint | null;
      return p ? boundedString(koffi, p, maxBytes) : null;
    },
    readRegion: (osr, dest, x, y, level, w, h) => void readRegion(osr, dest, x, y, level, w, h),
    associatedNames: (osr, maxNames, maxBytes) => stringArray(koffi, associatedNames(osr) as bigint | null, maxNames, maxBytes),
    associatedDimensions: (osr, name) => dims((w, h) => associatedDimensions(osr, name, w, h)),
    readAssociated: (osr, name, dest) => void readAssociated(osr, name, dest),
  };
}

/** Loads by candidate list, so that a changed DINOSCOPE_OPENSLIDE_LIBRARY is looked up afresh. */
const loads = new Map<string, Promise<LoadResult>>();

/** The library, loaded once per thread; where it cannot be loaded, the paths tried and why. */
export function loadOpenSlide(): Promise<LoadResult> {
  const tried = libraryCandidates();
  const key = tried.join('\n');
  let loading = loads.get(key);
  if (!loading) {
    loading = load(tried);
    loads.set(key, loading);
  }
  return loading;
}

async function load(tried: string[]): Promise<LoadResult> {
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    return {
      api: null,
      tried,
      why: `the FFI module koffi cannot be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    };
  }
  const failures: string[] = [];
  for (const path of tried) {
    try {
      return { api: bind(koffi, path) };
    } catch (err) {
      failures.push(`${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return { api: null, tried, why: failures.length > 0 ? `looked for ${failures.join('; ')}` : 'no place to look for it' };
}

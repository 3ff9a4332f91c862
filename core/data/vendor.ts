// Bounds on what a file's metadata may put into ImageMetadata: vendor properties are copied into
// project.json and sent to the UI, so a hostile description of megabytes must not become megabytes of
// properties; a stated resolution outside what any microscope or scanner produces is dropped with a
// warning instead of breaking every later resolution-based step (extraction at a given µm per pixel).

/** Vendor properties kept per image, and the most characters of each key and value. */
export const MAX_VENDOR_ENTRIES = 256;
export const MAX_VENDOR_KEY = 128;
export const MAX_VENDOR_VALUE = 1024;

/** Vendor-stated microns per pixel outside this range are ignored (1 Å to 1 cm per pixel). */
export const MIN_PLAUSIBLE_MPP = 1e-4;
export const MAX_PLAUSIBLE_MPP = 1e4;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The first MAX_VENDOR_ENTRIES properties, keys and values cut to their caps (a cut ends in "…"). */
export function boundedVendor(vendor: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(vendor)) {
    if (n++ >= MAX_VENDOR_ENTRIES) break;
    out[cut(k, MAX_VENDOR_KEY)] = cut(v, MAX_VENDOR_VALUE);
  }
  return out;
}

/** The stated mpp when it is plausible; else null and a warning saying what was ignored and why. */
export function plausibleMpp(mpp: number | null, source: string): { mpp: number | null; warning?: string } {
  if (mpp === null) return { mpp: null };
  if (Number.isFinite(mpp) && mpp >= MIN_PLAUSIBLE_MPP && mpp <= MAX_PLAUSIBLE_MPP) return { mpp };
  return {
    mpp: null,
    warning: `The file states ${mpp} µm per pixel (${source}), outside the plausible ${MIN_PLAUSIBLE_MPP}–${MAX_PLAUSIBLE_MPP} µm; it is ignored and the image is treated as having no stated resolution (use a pyramid level instead of --mpp).`,
  };
}
